/**
 * The pipeline stage that feeds the dashboard: it hands the audited item to the hub and returns.
 * No awaiting, no serialising here; the hub does the work on its own timer.
 */
import type { PipelineItem, Stage } from '../core/pipeline.js';
import type { StreamHub } from './hub.js';

export function createStreamStage(hub: StreamHub): Stage {
  return {
    name: 'dashboard-stream',
    run(item: PipelineItem): void {
      hub.publish(item);
    },
  };
}
