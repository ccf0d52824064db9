/** One entry point for the three formats, shared by the CLI and the dashboard's report route. */
import type { Report } from './model.js';
import { renderHtml } from './render-html.js';
import { renderMarkdown } from './render-md.js';

export const REPORT_FORMATS = ['html', 'md', 'json'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export const REPORT_MEDIA_TYPES: Readonly<Record<ReportFormat, string>> = {
  html: 'text/html; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

export function renderReport(r: Report, format: ReportFormat): string {
  if (format === 'html') return renderHtml(r);
  if (format === 'md') return renderMarkdown(r);
  return `${JSON.stringify(r, null, 2)}\n`;
}
