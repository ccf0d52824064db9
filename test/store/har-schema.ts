/** The HAR 1.2 JSON schema (har-schema, draft-06) compiled with ajv 8. */
import { createRequire } from 'node:module';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';

const require = createRequire(import.meta.url);

export function harValidator(): (data: unknown) => string | null {
  // har-schema uses non-standard keywords ("min", "optional"): not strict.
  const ajv = new Ajv.default({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  const schemas = require('har-schema') as Record<string, object>;
  for (const [name, schema] of Object.entries(schemas)) if (name !== 'har') ajv.addSchema(schema);
  const validate = ajv.compile(schemas['har']!);
  return (data) => (validate(data) ? null : ajv.errorsText(validate.errors));
}
