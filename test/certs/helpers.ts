/** Temp dirs for the certs tests, removed after each file. */
import { tempDir } from '../helpers/temp.js';

export function tempDirs(): () => string {
  return () => tempDir('lw-certs-');
}

export const modeOf = (st: { mode: number }): number => st.mode & 0o777;
