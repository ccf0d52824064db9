import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../core/errors.js';
import { validateStartFlags } from '../../cli/start-options.js';

describe('start options', () => {
  it('defaults to loopback, 8080/8081, observe, leaks bodies, 30 days', () => {
    const c = validateStartFlags({}, { LEAKWATCH_DATA_DIR: '/tmp/lw-x' });
    expect(c).toMatchObject({
      host: '127.0.0.1', port: 8080, dashboardHost: '127.0.0.1', dashboardPort: 8081,
      dataDir: '/tmp/lw-x', mode: 'observe', storeBodies: 'leaks', retentionDays: 30, builtinRules: true,
    });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ port: 'abc' }, /--port: "abc" is not a port number/],
    [{ port: '70000' }, /--port: 70000 is outside 1-65535/],
    [{ dashboardPort: '-1' }, /--dashboard-port/],
    [{ host: 'example.org' }, /--host: "example.org" is not an IP address/],
    [{ host: '0.0.0.0' }, /refusing to listen beyond loopback without --allow-client/],
    [{ host: '192.168.1.2' }, /open proxy/],
    [{ mode: 'panic' }, /--mode: "panic" must be one of observe, enforce/],
    [{ storeBodies: 'some' }, /--store-bodies/],
    [{ retentionDays: '0' }, /--retention-days: "0" must be a whole number >= 1/],
    [{ port: '9000', dashboardPort: '9000' }, /same as --port/],
  ])('rejects %j with one clear line', (flags, message) => {
    expect(() => validateStartFlags(flags)).toThrow(ConfigError);
    expect(() => validateStartFlags(flags)).toThrow(message);
  });

  it('allows a LAN address when --allow-client is given', () => {
    const c = validateStartFlags({ host: '0.0.0.0', allowClient: ['192.168.1.0/24'] });
    expect(c.host).toBe('0.0.0.0');
  });

  it('treats localhost as 127.0.0.1 (never ::1: the library hops to 0.0.0.0 internally)', () => {
    expect(validateStartFlags({ host: 'localhost' }).host).toBe('127.0.0.1');
  });
});
