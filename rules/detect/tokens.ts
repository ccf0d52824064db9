/**
 * Credentials: `Authorization: Bearer …`, Synapse `syt_`/`syr_` tokens (they embed
 * base64(localpart), so they also name the user), `access_token=`/`scalar_token=` in URLs (the IS
 * spec allows the query form, which lands in access logs), and JWTs (three base64url parts whose
 * header decodes to JSON with `alg`).
 */
import type { Candidate } from './types.js';

const SYT = /(?<![A-Za-z0-9_])sy[tr]_[A-Za-z0-9_-]{10,}/g;
const URL_TOKEN = /(?:^|[?&#;\s"'])(?:access_token|scalar_token)=([^&\s"'#;]{6,})/g;
const JWT = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{2,}\.[A-Za-z0-9_-]*/g;
const BEARER = /^\s*Bearer\s+(\S{4,})\s*$/i;
/** Keys whose value is a credential wherever they appear (JSON, form, query). */
export const TOKEN_KEYS = new Set(['access_token', 'scalar_token', 'id_access_token', 'refresh_token']);

export function bearerToken(headerValue: string): string | null {
  return BEARER.exec(headerValue)?.[1] ?? null;
}

function isJwt(s: string): boolean {
  const head = s.slice(0, s.indexOf('.'));
  try {
    const obj = JSON.parse(Buffer.from(head, 'base64url').toString('utf8')) as unknown;
    return typeof obj === 'object' && obj !== null && typeof (obj as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

export function detectTokens(text: string): Candidate[] {
  const out: Candidate[] = [];
  const push = (value: string, start: number): void => {
    out.push({ kind: 'token', value, start, end: start + value.length });
  };
  if (text.includes('sy')) {
    SYT.lastIndex = 0;
    for (let m = SYT.exec(text); m !== null; m = SYT.exec(text)) push(m[0], m.index);
  }
  if (text.includes('_token=')) {
    URL_TOKEN.lastIndex = 0;
    for (let m = URL_TOKEN.exec(text); m !== null; m = URL_TOKEN.exec(text)) {
      push(m[1]!, m.index + m[0].length - m[1]!.length);
    }
  }
  if (text.includes('eyJ')) {
    JWT.lastIndex = 0;
    for (let m = JWT.exec(text); m !== null; m = JWT.exec(text)) if (isJwt(m[0])) push(m[0], m.index);
  }
  return out;
}
