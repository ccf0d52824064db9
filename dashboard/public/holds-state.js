// Pending holds (hold-and-ask), shared by the panel shown on every view: loaded from /api/holds,
// kept current by the stream's "hold" / "hold-resolved" messages, reloaded after a reconnect.
import { getJSON, sendJSON } from './api.js';
import { subscribe, subscribeEvents } from './live-state.js';

const state = { holds: [], timeoutMs: 30000, error: null };
const listeners = new Set();
let started = false;
const notify = () => {
  for (const fn of listeners) fn(state);
};

async function reload() {
  try {
    const r = await getJSON('/api/holds');
    state.holds = r.holds;
    state.timeoutMs = r.timeoutMs;
    state.error = null;
  } catch (e) {
    state.error = e.message;
  }
  notify();
}

export function startHolds() {
  if (started) return;
  started = true;
  subscribeEvents((msg) => {
    if (msg.type === 'hold' && !state.holds.some((h) => h.id === msg.hold.id)) state.holds = [...state.holds, msg.hold];
    else if (msg.type === 'hold-resolved') state.holds = state.holds.filter((h) => h.id !== msg.id);
    else return;
    notify();
  });
  let last = null;
  subscribe((s) => {
    if (s.status === 'live' && last !== 'live') void reload();
    last = s.status;
  });
  void reload();
}

export async function decide(id, decision, scope) {
  const r = await sendJSON('POST', `/api/holds/${encodeURIComponent(id)}`, { decision, scope });
  state.holds = state.holds.filter((h) => !r.settled.includes(h.id));
  notify();
  return r;
}

export function holdsState() {
  return state;
}

export function subscribeHolds(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
