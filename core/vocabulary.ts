/**
 * The closed vocabularies of leakwatch. Rule packs, the store, exports and the dashboard all use
 * these exact strings (a stored or exported name is read back by older and newer versions): extend
 * a list only with a reason, and keep README.md and dashboard/API.md in step.
 */

/** Who receives the traffic, by role. */
export const CATEGORIES = [
  'identity-server',
  'integration-manager',
  'permalink',
  'push-gateway',
  'key-notary',
  'stun-turn',
  'welcome-bot',
  'analytics',
  'crash-report',
  'phone-home',
  'map-tiles',
  'conference',
  'update-check',
  'federation',
  /** Sent to your own homeserver but exposed onward (device names, public media, profiles, pushers). */
  'first-party-exposure',
  'cdn',
  /** A CAPTCHA provider loaded at registration (reCAPTCHA). */
  'captcha',
  /** A widget (iframe app) whose URL the client filled in with your Matrix ID, room, name or avatar. */
  'widget',
] as const;
export type Category = (typeof CATEGORIES)[number];

/** What personal datum a finding is. */
export const KINDS = [
  'email',
  'phone',
  'mxid',
  'room_id',
  'room_alias',
  'room_name',
  'event_id',
  'display_name',
  'avatar_url',
  'device_name',
  'device_id',
  'server_name',
  'contact_hash',
  'push_key',
  'token',
  'tracking_id',
  'user_agent',
  'accept_language',
  'origin',
  'referer',
  'cookie',
  'ip_address',
  'location',
  'message_content',
  'usage_stats',
  'url',
] as const;
export type Kind = (typeof KINDS)[number];

/** What a rule does with a matching request. */
export const ACTIONS = ['log', 'block', 'neutralize', 'strip', 'hold'] as const;
export type Action = (typeof ACTIONS)[number];

/** What happened to an exchange. In observe mode non-log actions are recorded as `would-*`. */
export const VERDICTS = [
  'allow',
  'block',
  'neutralize',
  'strip',
  'hold',
  'would-block',
  'would-neutralize',
  'would-strip',
  'would-hold',
] as const;
export type Verdict = (typeof VERDICTS)[number];

export const SEVERITIES = ['none', 'info', 'low', 'medium', 'high'] as const;
export type Severity = (typeof SEVERITIES)[number];

export function isCategory(s: string): s is Category {
  return (CATEGORIES as readonly string[]).includes(s);
}
export function isKind(s: string): s is Kind {
  return (KINDS as readonly string[]).includes(s);
}
export function isAction(s: string): s is Action {
  return (ACTIONS as readonly string[]).includes(s);
}
