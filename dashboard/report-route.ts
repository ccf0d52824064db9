/**
 * GET /api/report?session=ID|NAME&format=html|md|json[&download=1]: the privacy report of one
 * session (all sessions without `session`), the same document `leakwatch report` writes.
 * `download=1` answers as an attachment, for the Report view's download buttons.
 */
import type { RequestHandler } from 'express';
import { ConfigError } from '../core/errors.js';
import type { ReportSource } from '../report/load.js';
import { REPORT_FORMATS, REPORT_MEDIA_TYPES, type ReportFormat } from '../report/render.js';
import { BadRequest, text } from './params.js';

const EXT: Readonly<Record<ReportFormat, string>> = { html: 'html', md: 'md', json: 'json' };

export function reportHandler(report: ReportSource): RequestHandler {
  return async (req, res) => {
    const format = text(req.query, 'format') ?? 'json';
    if (!(REPORT_FORMATS as readonly string[]).includes(format)) throw new BadRequest(`format: one of ${REPORT_FORMATS.join(', ')}`);
    const session = text(req.query, 'session');
    let body: string;
    try {
      body = await report({ format: format as ReportFormat, ...(session !== undefined ? { session } : {}) });
    } catch (err: unknown) {
      // Unknown or empty session: the message says which; nothing else is a client's fault.
      if (err instanceof ConfigError) return void res.status(404).json({ error: err.message });
      throw err;
    }
    if (text(req.query, 'download') === '1') {
      const name = `leakwatch-report-${(session ?? 'all').replace(/[^A-Za-z0-9._-]+/g, '_')}.${EXT[format as ReportFormat]}`;
      res.setHeader('Content-Disposition', `attachment; filename="${name}"`);
    }
    res.type(REPORT_MEDIA_TYPES[format as ReportFormat]).send(body);
  };
}
