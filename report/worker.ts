/** The dashboard's report, off the proxy's thread (see createReportSource in load.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { ConfigError, RulePackError } from '../core/errors.js';
import { renderStoreReport, type ReportJob, type ReportReply } from './load.js';

const job = workerData as ReportJob;
let reply: ReportReply;
try {
  reply = { body: renderStoreReport(job.file, job.q, job.s) };
} catch (err: unknown) {
  reply = { error: err instanceof Error ? err.message : String(err), config: err instanceof ConfigError || err instanceof RulePackError };
}
parentPort!.postMessage(reply);
