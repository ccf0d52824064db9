/** Maps Node and library errors to our stable codes (core/errors.ts) and to a client status. */
import { ERR, type ErrorCode } from '../core/errors.js';

const TLS_CODES = /^(?:ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH|EPROTO)/;

function codeOf(err: unknown): string {
  if (err && typeof err === 'object' && 'code' in err && typeof err.code === 'string') return err.code;
  return '';
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message.slice(0, 300);
  return String(err).slice(0, 300);
}

/** Classifies an error by where the library saw it (`kind`) and its Node code. */
export function classify(kind: string, err: unknown): ErrorCode {
  const code = codeOf(err);
  if ((Object.values(ERR) as string[]).includes(code)) return code as ErrorCode;
  if (kind.startsWith('CLIENT_TO_PROXY') || kind.startsWith('PROXY_TO_CLIENT')) return ERR.CLIENT_ABORT;
  if (code === 'ECONNREFUSED' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return ERR.UPSTREAM_REFUSED;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_FAIL') return ERR.UPSTREAM_DNS;
  if (code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') return ERR.UPSTREAM_TIMEOUT;
  if (TLS_CODES.test(code)) return ERR.UPSTREAM_TLS;
  if (code.startsWith('HPE_')) return ERR.UPSTREAM_PROTOCOL;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === 'ECONNABORTED' || messageOf(err) === 'aborted') return ERR.UPSTREAM_RESET;
  return ERR.INTERNAL;
}

/** The status a client gets when we fail before any response header was sent. */
export function statusFor(code: ErrorCode): number {
  if (code === ERR.UPSTREAM_TIMEOUT) return 504;
  if (code === ERR.LOOP) return 508;
  if (code === ERR.TARGET_FORBIDDEN) return 403;
  return 502;
}

/** The reason phrase that goes with statusFor's status. */
export function statusText(code: ErrorCode): string {
  const status = statusFor(code);
  return status === 504 ? 'Gateway Timeout' : status === 508 ? 'Loop Detected' : status === 403 ? 'Forbidden' : 'Bad Gateway';
}

const UNKNOWN_ISSUER = /^(?:UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(?:_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED)$/;

/**
 * Why the origin's certificate was refused, in words a user can act on (as mitmproxy shows it),
 * or undefined when the error is not a certificate verdict. Node's message alone ("Hostname/IP
 * does not match certificate's altnames: ...") goes to the record; the client gets this.
 */
export function tlsCause(err: unknown): string | undefined {
  const code = codeOf(err);
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return 'certificate hostname mismatch';
  if (code === 'CERT_HAS_EXPIRED') return 'certificate expired';
  if (code === 'CERT_NOT_YET_VALID') return 'certificate not yet valid';
  if (UNKNOWN_ISSUER.test(code)) return 'certificate from an unknown issuer';
  return undefined;
}
