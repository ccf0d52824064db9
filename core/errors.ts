/**
 * Error codes in one place. Traffic problems are data (ExchangeError with one of these codes),
 * configuration problems are ConfigError (one clear line, non-zero exit), rule-pack problems are
 * RulePackError (file:line:col and field).
 */
export const ERR = {
  UPSTREAM_TIMEOUT: 'LW_UPSTREAM_TIMEOUT',
  UPSTREAM_REFUSED: 'LW_UPSTREAM_REFUSED',
  UPSTREAM_RESET: 'LW_UPSTREAM_RESET',
  UPSTREAM_TLS: 'LW_UPSTREAM_TLS',
  UPSTREAM_DNS: 'LW_UPSTREAM_DNS',
  UPSTREAM_PROTOCOL: 'LW_UPSTREAM_PROTOCOL',
  CLIENT_ABORT: 'LW_CLIENT_ABORT',
  CLIENT_TLS_REJECTED: 'LW_CLIENT_TLS_REJECTED',
  CLIENT_NO_SNI: 'LW_CLIENT_NO_SNI',
  BAD_TARGET: 'LW_BAD_TARGET',
  LOOP: 'LW_LOOP',
  /** The upstream is loopback, link-local or unspecified (the proxy must not be a pivot). */
  TARGET_FORBIDDEN: 'LW_TARGET_FORBIDDEN',
  CLIENT_DENIED: 'LW_CLIENT_DENIED',
  BLOCKED: 'LW_BLOCKED',
  INTERNAL: 'LW_INTERNAL',
} as const;
export type ErrorCode = (typeof ERR)[keyof typeof ERR];

/** Bad flags or configuration: the CLI prints `message` alone on one line and exits non-zero. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** A rule pack that cannot be used; `message` names file:line:col and the field. */
export class RulePackError extends Error {
  override readonly name = 'RulePackError';
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly col: number,
    readonly field: string,
  ) {
    super(message);
  }
}
