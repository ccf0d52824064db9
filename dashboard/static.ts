/**
 * The UI's files: dashboard/public (our ES modules and CSS) and a fixed list of vendor modules
 * from node_modules, mapped for the browser by an import map. Nothing else on disk is reachable:
 * no directory of node_modules, and never the data dir (CA key, token, database).
 *
 * The import map is the page's only inline script; its SHA-256 goes into the CSP so that
 * `script-src` stays free of 'unsafe-inline'.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

const require = createRequire(import.meta.url);
/** A package's root: walk up from its entry point (not every package exports ./package.json). */
function pkgDir(name: string): string {
  let dir = dirname(require.resolve(name));
  for (;;) {
    try {
      if ((JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }).name === name) return dir;
    } catch {
      // no package.json here: keep walking
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`leakwatch: cannot find the ${name} package`);
    dir = up;
  }
}

/** URL path -> file. Only these node_modules files are served. */
export function vendorFiles(): Record<string, string> {
  const preact = pkgDir('preact');
  const htm = pkgDir('htm');
  const uplot = pkgDir('uplot');
  return {
    '/vendor/preact.mjs': join(preact, 'dist', 'preact.mjs'),
    '/vendor/preact-hooks.mjs': join(preact, 'hooks', 'dist', 'hooks.mjs'),
    '/vendor/htm.mjs': join(htm, 'dist', 'htm.mjs'),
    '/vendor/htm-preact.mjs': join(htm, 'preact', 'index.mjs'),
    '/vendor/uplot.mjs': join(uplot, 'dist', 'uPlot.esm.js'),
    '/vendor/uplot.css': join(uplot, 'dist', 'uPlot.min.css'),
  };
}

export const IMPORT_MAP = {
  imports: {
    preact: '/vendor/preact.mjs',
    'preact/hooks': '/vendor/preact-hooks.mjs',
    htm: '/vendor/htm.mjs',
    'htm/preact': '/vendor/htm-preact.mjs',
    uplot: '/vendor/uplot.mjs',
  },
};

export function publicDir(): string {
  // From source (dashboard/static.ts) and from dist (dist/dashboard/static.js) alike.
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'public'), join(here, '..', '..', 'dashboard', 'public')];
  for (const c of candidates) {
    try {
      readFileSync(join(c, 'index.html'));
      return c;
    } catch {
      // try the next candidate
    }
  }
  throw new Error('leakwatch: dashboard/public/index.html not found');
}

export interface StaticSite {
  router: Router;
  /** 'sha256-…' of the inline import map, for the CSP. */
  importMapHash: string;
}

export function staticSite(): StaticSite {
  const dir = publicDir();
  const map = JSON.stringify(IMPORT_MAP);
  const importMapHash = `sha256-${createHash('sha256').update(map).digest('base64')}`;
  const html = readFileSync(join(dir, 'index.html'), 'utf8').replace('<!--IMPORT_MAP-->', `<script type="importmap">${map}</script>`);

  const r = Router();
  const sendIndex = (_req: express.Request, res: express.Response): void => {
    res.setHeader('Cache-Control', 'no-cache');
    res.type('html').send(html);
  };
  r.get('/', sendIndex);
  r.get('/index.html', sendIndex);
  for (const [url, file] of Object.entries(vendorFiles())) {
    r.get(url, (_req, res) => res.sendFile(file, { headers: { 'Cache-Control': 'public, max-age=3600' } }));
  }
  r.use(
    '/ui',
    express.static(dir, { dotfiles: 'deny', index: false, redirect: false, fallthrough: true, maxAge: 0 }),
  );
  return { router: r, importMapHash };
}

export function contentSecurityPolicy(importMapHash: string): string {
  return [
    "default-src 'self'",
    `script-src 'self' '${importMapHash}'`,
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
