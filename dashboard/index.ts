/** The dashboard's public surface (see dashboard/API.md). */
export { startDashboard, type RunningDashboard } from './server.js';
export { loadOrCreateDashboardToken } from './token.js';
export { createStreamStage } from './stage.js';
export { StreamHub, type HubOptions } from './hub.js';
export type { DashboardOptions, RulesView, HealthView, RuleView, CaView } from './types.js';
export type * from './data-source.js';
export { storeDataSource } from './store-adapter.js';
export { rulesViewFromRuleset, type RulesViewExtras } from './rules-view.js';
