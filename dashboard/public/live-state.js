// The live list shared by every view: filled from /api/flows, then kept current by the stream.
// Views subscribe and re-render; the list is capped so a long session cannot eat the tab's memory.
import { getJSON, openStream } from './api.js';

const MAX = 3000;
const state = { flows: [], ids: new Set(), status: 'connecting', gaps: 0, version: 0 };
const listeners = new Set();
const eventListeners = new Set();
let started = false;

const notify = () => {
  state.version++;
  for (const fn of listeners) fn(state);
};

function add(items) {
  // items arrive oldest first; the list is newest first.
  const fresh = items.filter((f) => !state.ids.has(f.id));
  if (!fresh.length) return;
  for (const f of fresh) state.ids.add(f.id);
  state.flows = [...fresh.reverse(), ...state.flows].sort((a, b) => b.id - a.id);
  if (state.flows.length > MAX) {
    for (const f of state.flows.slice(MAX)) state.ids.delete(f.id);
    state.flows = state.flows.slice(0, MAX);
  }
  notify();
}

export async function startLive() {
  if (started) return;
  started = true;
  const { flows } = await getJSON('/api/flows', { limit: 300 });
  add([...flows].reverse());
  const lastId = flows.length ? Math.max(...flows.map((f) => f.id)) : null;
  openStream({
    lastId,
    onFlows: add,
    onGap: (missed) => {
      state.gaps += missed ?? 1;
      notify();
    },
    onEvent: (msg) => {
      for (const fn of eventListeners) fn(msg);
    },
    onStatus: (s) => {
      state.status = s;
      notify();
    },
  });
}

export function liveState() {
  return state;
}

export function subscribe(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

/** Stream messages other than flows (hold-and-ask); see dashboard/stream.ts. */
export function subscribeEvents(fn) {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}
