/**
 * User-Agent families, as a reader of the report names clients: "Element Desktop", "Element
 * Android", "Firefox", "curl". First match wins; the table goes from the most specific (Element's
 * own agents, Electron) to the generic browsers. Pure.
 */
const FAMILIES: ReadonlyArray<readonly [RegExp, string]> = [
  [/\bElement\/[\d.]+.*\bAndroid\b/i, 'Element Android'],
  [/\bElement\/[\d.]+.*\b(iPhone|iPad|iOS)\b/i, 'Element iOS'],
  [/\bElement(-desktop)?\/[\d.]+.*\bElectron\//i, 'Element Desktop'],
  [/\bElectron\//, 'Electron app'],
  [/\bElement X\b|\bElementX\b/i, 'Element X'],
  [/\bSynapse\//, 'Synapse'],
  [/\bmatrix-(js|rust)-sdk\b/i, 'matrix SDK'],
  [/\bokhttp\//i, 'Android app (OkHttp)'],
  [/\bCFNetwork\//, 'iOS/macOS app (CFNetwork)'],
  [/\bEdg\//, 'Edge'],
  [/\bFirefox\//, 'Firefox'],
  [/\bHeadlessChrome\//, 'Chromium (headless)'],
  [/\bChrom(e|ium)\//, 'Chrome/Chromium'],
  [/\bSafari\//, 'Safari'],
  [/^curl\//, 'curl'],
  [/^Wget\//i, 'Wget'],
  [/^(node|undici)\b/i, 'Node.js'],
  [/^python-requests\//i, 'Python requests'],
  [/^Go-http-client\//, 'Go'],
];

export function userAgentFamily(ua: string): string {
  for (const [re, name] of FAMILIES) if (re.test(ua)) return name;
  const first = /^[A-Za-z][\w.-]*/.exec(ua.trim());
  return first ? `other (${first[0].slice(0, 40)})` : 'other';
}
