// The UI's only door to the server: JSON GETs under /api and the /api/stream WebSocket.
// The token travels in the HttpOnly cookie set by the start-up link; scripts never see it.

export class Unauthorized extends Error {}

/** What a failed fetch means here: the browser's "Failed to fetch" says nothing to a user. */
export const DOWN = 'leakwatch is not running — retrying';

async function request(url, init) {
  try {
    return await fetch(url, init);
  } catch {
    throw new Error(DOWN);
  }
}

/** `path?query` with the empty parameters left out. */
export function withQuery(path, params) {
  const qs = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')) : null;
  return qs && [...qs].length ? `${path}?${qs}` : path;
}

export async function getJSON(path, params) {
  const url = withQuery(path, params);
  const res = await request(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

/**
 * POST/DELETE with a JSON body. The browser adds our Origin and the HttpOnly cookie; the server
 * refuses both without them.
 */
export async function sendJSON(method, path, body) {
  const res = await request(path, {
    method,
    credentials: 'same-origin',
    headers: { Accept: 'application/json', ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (res.status === 401) throw new Unauthorized('unauthorized');
  const data = res.status === 204 ? {} : await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || `HTTP ${res.status}`);
  return data;
}

/**
 * Keeps one stream open, reconnecting with ?since=<last id seen> so nothing is missed across
 * drops (the server replays from its ring and the store).
 */
export function openStream({ onFlows, onGap, onStatus, onEvent, lastId }) {
  let ws;
  let last = lastId ?? null;
  let delay = 500;
  let stopped = false;
  const connect = () => {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const since = last !== null ? `?since=${encodeURIComponent(last)}` : '';
    ws = new WebSocket(`${proto}//${location.host}/api/stream${since}`);
    ws.onopen = () => {
      delay = 500;
      onStatus('live');
    };
    ws.onmessage = (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return;
      }
      if (msg.type === 'flows' && Array.isArray(msg.items) && msg.items.length) {
        last = msg.items[msg.items.length - 1].id;
        onFlows(msg.items);
      } else if (msg.type === 'gap') onGap(msg.missed);
      else if (msg.type === 'hold' || msg.type === 'hold-resolved') onEvent?.(msg);
    };
    ws.onclose = () => {
      if (stopped) return;
      onStatus('reconnecting');
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 10000);
    };
  };
  connect();
  return () => {
    stopped = true;
    ws?.close();
  };
}
