// The live list shared by every view: filled from /api/flows, then kept current by the stream.
// Views subscribe and re-render; the list is capped so a long session cannot eat the tab's memory.
import { getJSON, openStream, Unauthorized } from './api.js';

const MAX = 3000;
const PAGE = 300;
// `complete`: the oldest stored exchange is in the list (nothing older to load).
const state = { flows: [], ids: new Set(), status: 'connecting', gaps: 0, version: 0, complete: false, stored: null };
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

/** One more page of older exchanges from the store, appended to the list. */
export async function loadOlder() {
  const oldest = state.flows[state.flows.length - 1];
  const { flows } = await getJSON('/api/flows', { limit: PAGE, before: oldest?.id });
  if (flows.length < PAGE) state.complete = true;
  const fresh = flows.filter((f) => !state.ids.has(f.id));
  for (const f of fresh) state.ids.add(f.id);
  state.flows = [...state.flows, ...fresh];
  notify();
}

/** How many exchanges the store holds (the badge counts what is stored, not what this tab has). */
export async function refreshStored() {
  const [h, s] = await Promise.all([getJSON('/api/health'), getJSON('/api/sessions')]);
  state.sessions = s.sessions;
  state.stored = h.store?.exchanges ?? null;
  state.tlsFailures = h.store?.tlsFailures ?? 0;
  notify();
}

export async function startLive() {
  if (started) return;
  started = true;
  let flows;
  try {
    ({ flows } = await getJSON('/api/flows', { limit: PAGE }));
  } catch (err) {
    started = false;
    if (err instanceof Unauthorized) throw err;
    // leakwatch is not running (or restarting): say so and try again by itself.
    state.status = 'down';
    notify();
    setTimeout(() => startLive().catch(() => undefined), 3000);
    return;
  }
  if (flows.length < PAGE) state.complete = true;
  add([...flows].reverse());
  refreshStored().catch(() => undefined);
  setInterval(() => refreshStored().catch(() => undefined), 5000);
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

// The session every view and export follows: '' = all sessions. Kept in localStorage so a reload
// stays on the capture being looked at.
const sessionListeners = new Set();
let session = (() => {
  try {
    return localStorage.getItem('lw-session') || '';
  } catch {
    return '';
  }
})();

export const currentSession = () => session;

export function setSession(id) {
  session = id || '';
  try {
    localStorage.setItem('lw-session', session);
  } catch {
    // private mode: the choice lasts for this page only
  }
  for (const fn of sessionListeners) fn(session);
}

export function subscribeSession(fn) {
  sessionListeners.add(fn);
  return () => sessionListeners.delete(fn);
}
