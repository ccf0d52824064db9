/** The location detector: geo: URIs and latitude/longitude pairs, with near misses. */
import { describe, expect, it } from 'vitest';
import { detectPatterns } from '../../rules/detect/index.js';
import { detectLocations, locationFromField } from '../../rules/detect/location.js';

const values = (text: string) => detectLocations(text).map((c) => c.value);

describe('detectLocations', () => {
  it.each([
    ['m.location geo_uri', 'geo:51.5072,-0.1276;u=35', ['geo:51.5072,-0.1276;u=35']],
    ['geo URI in a log line', 'W shared geo:48.8584,2.2945 with the room', ['geo:48.8584,2.2945']],
    ['geo URI with altitude', 'geo:37.786971,-122.399677,250', ['geo:37.786971,-122.399677,250']],
    ['query pair', 'center?lat=51.507200&lon=-0.127600&zoom=15', ['51.507200,-0.127600']],
    ['JSON text pair', '{"latitude": 52.3702, "longitude": 4.8952}', ['52.3702,4.8952']],
  ])('%s', (_n, text, want) => {
    expect(values(text)).toEqual(want);
  });
  it.each([
    ['out of range', 'geo:95.1,200.2'],
    ['too few decimals', 'lat=51.5&lon=-0.1'],
    ['a latency, not a latitude', 'latency=12.345 lon=3.456'],
    ['a version', 'version 1.157.2 lat'],
    ['no longitude', 'latitude: 51.5072'],
  ])('near miss: %s', (_n, text) => {
    expect(values(text)).toEqual([]);
  });
});

describe('locationFromField', () => {
  it('pairs a latitude field with its longitude sibling', () => {
    expect(locationFromField('latitude', 51.5072, { latitude: 51.5072, longitude: -0.1276 })).toBe('51.5072,-0.1276');
    expect(detectPatterns(51.5072, { key: 'lat', parent: { lat: 51.5072, lng: -0.1276 } }).map((c) => c.value)).toEqual(['51.5072,-0.1276']);
  });
  it('near miss: a lone latitude or a coarse one', () => {
    expect(locationFromField('latitude', 51.5072, { latitude: 51.5072 })).toBeNull();
    expect(locationFromField('lat', 51.5, { lat: 51.5, lon: -0.1 })).toBeNull();
  });
});

describe('versions are not addresses', () => {
  it.each(['browser_version', '$os_version', 'appVersion'])('%s', (key) => {
    expect(detectPatterns('131.0.0.0', { key }).filter((c) => c.kind === 'ip_address')).toEqual([]);
  });
  it('near miss: the same dotted quad under another key is an address', () => {
    expect(detectPatterns('131.0.0.0', { key: 'client_ip' }).map((c) => c.kind)).toContain('ip_address');
  });
});
