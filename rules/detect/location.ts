/**
 * Locations: RFC 5870 `geo:` URIs (Matrix `m.location` bodies and `geo_uri`, free text that quotes
 * them) and latitude/longitude pairs, both in text (`lat=51.5072&lon=-0.1276`, log lines) and as
 * sibling JSON fields. Coordinates need three decimals (about 100 m) so versions and sizes with a
 * `lat`-like word nearby do not count.
 */
import type { Candidate } from './types.js';

const GEO = /\bgeo:(-?\d{1,2}(?:\.\d+)?),(-?\d{1,3}(?:\.\d+)?)(?:,-?\d+(?:\.\d+)?)?(?:;u=\d+(?:\.\d+)?)?/gi;
const PAIR = /\blat(?:itude)?["'\s]*[:=]\s*["']?(-?\d{1,2}\.\d{3,})\b[^\n]{0,40}?\b(?:lon|lng|long|longitude)["'\s]*[:=]\s*["']?(-?\d{1,3}\.\d{3,})\b/gi;

const inRange = (lat: string, lon: string): boolean => Math.abs(Number(lat)) <= 90 && Math.abs(Number(lon)) <= 180;

export function detectLocations(text: string): Candidate[] {
  const out: Candidate[] = [];
  if (/geo:/i.test(text)) {
    GEO.lastIndex = 0;
    for (let m = GEO.exec(text); m !== null; m = GEO.exec(text)) {
      if (inRange(m[1]!, m[2]!)) out.push({ kind: 'location', value: m[0], start: m.index, end: m.index + m[0].length });
    }
  }
  if (/lat/i.test(text) && /lo?ng?/i.test(text)) {
    PAIR.lastIndex = 0;
    for (let m = PAIR.exec(text); m !== null; m = PAIR.exec(text)) {
      if (inRange(m[1]!, m[2]!)) out.push({ kind: 'location', value: `${m[1]},${m[2]}`, start: m.index, end: m.index + m[0].length });
    }
  }
  return out;
}

const LAT_KEYS = new Set(['lat', 'latitude']);
const LON_KEYS = ['lon', 'lng', 'long', 'longitude'];

/** A `latitude` field whose sibling is a longitude: the pair, as `lat,lon`. */
export function locationFromField(key: string, value: string | number, parent: unknown): string | null {
  if (!LAT_KEYS.has(key.toLowerCase()) || typeof parent !== 'object' || parent === null || Array.isArray(parent)) return null;
  const lat = String(value);
  if (!/^-?\d{1,2}\.\d{3,}$/.test(lat)) return null;
  const p = parent as Record<string, unknown>;
  for (const k of Object.keys(p)) {
    if (!LON_KEYS.includes(k.toLowerCase())) continue;
    const lon = String(p[k]);
    if (/^-?\d{1,3}\.\d{3,}$/.test(lon) && inRange(lat, lon)) return `${lat},${lon}`;
  }
  return null;
}
