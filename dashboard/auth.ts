/**
 * Express middleware built on access.ts: the order in server.ts is host guard, security headers,
 * unsafe-method Origin guard, then token checks on the protected routes.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import {
  authenticate,
  crossOriginRead,
  originAllowed,
  setCookieHeader,
  tokenMatches,
  type AccessPolicy,
} from './access.js';

export type PolicyRef = () => AccessPolicy;

/** DNS rebinding: a hostile name resolving to 127.0.0.1 still carries its own name in Host. */
export function hostGuard(policy: PolicyRef): RequestHandler {
  return (req, res, next) => {
    const host = req.headers.host;
    if (host !== undefined && policy().hosts.has(host.toLowerCase())) return next();
    res.status(421).type('text/plain').send('leakwatch: unexpected Host header\n');
  };
}

export function securityHeaders(csp: () => string): RequestHandler {
  return (_req, res, next) => {
    res.setHeader('Content-Security-Policy', csp());
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Permissions-Policy', 'camera=(), microphone=(), geolocation=()');
    next();
  };
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Every state-changing request (overrides, hold decisions: POST/DELETE) must come from our own origin. Browsers always send Origin on POST/PUT/DELETE; a client without
 * one (curl) must then authenticate with the bearer header, which no other site can attach.
 */
export function unsafeMethodGuard(policy: PolicyRef): RequestHandler {
  return (req, res, next) => {
    if (SAFE.has(req.method)) return next();
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (originAllowed(policy(), origin)) return next();
      return void res.status(403).json({ error: 'cross-origin request refused' });
    }
    if (authenticate(policy(), req) === 'bearer') return next();
    res.status(403).json({ error: 'state-changing requests need an Origin header or a bearer token' });
  };
}

/** Token required (bearer or cookie), and no answers for other origins' pages. */
export function requireToken(policy: PolicyRef): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const p = policy();
    if (crossOriginRead(p, req)) return void res.status(403).json({ error: 'cross-origin request refused' });
    if (authenticate(p, req) !== null) {
      res.setHeader('Cache-Control', 'no-store');
      return next();
    }
    res.setHeader('WWW-Authenticate', 'Bearer realm="leakwatch"');
    res.status(401).json({ error: 'unauthorized: open the link printed by `leakwatch start`' });
  };
}

/**
 * The start-up link `/?token=…`: a valid token becomes an HttpOnly cookie and the browser is sent
 * to `/` so the token leaves the address bar and history. A wrong token gets 401, not the page.
 */
export function tokenLink(policy: PolicyRef): RequestHandler {
  return (req, res, next) => {
    const raw = req.query['token'];
    if (raw === undefined) return next();
    res.setHeader('Cache-Control', 'no-store');
    if (typeof raw === 'string' && tokenMatches(policy(), raw)) {
      res.setHeader('Set-Cookie', setCookieHeader(policy()));
      return void res.redirect(303, '/');
    }
    res.status(401).type('text/plain').send('leakwatch: wrong or expired token; use the link printed at start-up\n');
  };
}
