// Types for the unit tests (the browser ignores this file).
export function hostText(host: string | null | undefined): { text: string; odd: boolean };
export function fmtHost(host: string | null | undefined): unknown;
