/**
 * Copies of the CA certificate in the forms device installers want: PEM for desktops and
 * browsers, DER as .der, and DER again as .crt (Android's certificate installer only accepts
 * DER files with that extension). The private key is never exported: nothing here reads it.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CaMaterial } from './ca.js';

export interface ExportedCa {
  readonly pem: string;
  readonly der: string;
  readonly crt: string;
}

export async function exportCa(ca: Pick<CaMaterial, 'certPem' | 'certDer'>, dir: string): Promise<ExportedCa> {
  const out = resolve(dir);
  await mkdir(out, { recursive: true });
  const paths: ExportedCa = {
    pem: join(out, 'leakwatch-ca.pem'),
    der: join(out, 'leakwatch-ca.der'),
    crt: join(out, 'leakwatch-ca.crt'),
  };
  const files: Array<[string, string | Buffer]> = [
    [paths.pem, ca.certPem],
    [paths.der, ca.certDer],
    [paths.crt, ca.certDer],
  ];
  for (const [path, data] of files) {
    await writeFile(path, data, { mode: 0o644 });
    // writeFile's mode applies only to new files (and through the umask); the copies are public.
    await chmod(path, 0o644);
  }
  return paths;
}
