/**
 * `leakwatch ca`: create the CA if needed and say where it is and how to recognise it. The
 * fingerprint is what a user compares against the device's "install certificate" screen.
 */
import { loadOrCreateCa } from '../certs/ca.js';
import { exportCa } from '../certs/export.js';

export interface CaCommandOptions {
  readonly dataDir: string;
  readonly exportDir?: string;
}

/** Returns the text to print (no trailing newline). Throws ConfigError for a broken CA. */
export async function caCommand(opts: CaCommandOptions): Promise<string> {
  const ca = await loadOrCreateCa(opts.dataDir);
  const lines = [
    `CA certificate: ${ca.certPath}`,
    `Subject: ${ca.subject}`,
    `Valid until: ${ca.notAfter.toISOString()}`,
    `SHA-256 Fingerprint: ${ca.fingerprintSha256}`,
  ];
  if (opts.exportDir !== undefined) {
    const out = await exportCa(ca, opts.exportDir);
    lines.push('Exported (install one of these on your devices; the private key stays in the data dir):');
    lines.push(`  ${out.pem}  (PEM)`, `  ${out.der}  (DER)`, `  ${out.crt}  (DER, for Android)`);
  }
  return lines.join('\n');
}
