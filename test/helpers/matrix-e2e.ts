/**
 * Client side of the Matrix end-to-end tests: a `fetch` that goes through leakwatch as an HTTP proxy
 * (CONNECT, then TLS to leakwatch's leaf, verified against leakwatch's CA only), a log of what the
 * client sent, and a small client for the dashboard API (`GET /api/flows`, `GET /api/flows/:id`).
 */
import { fetch as undiciFetch, ProxyAgent, type Dispatcher } from 'undici';

export interface Sent {
  readonly method: string;
  readonly url: string;
  readonly headers: Record<string, string>;
  /** The body as sent (the SDK sends JSON strings), '' when none. */
  readonly body: string;
}

export interface ProxiedFetch {
  readonly fetch: typeof globalThis.fetch;
  /** Every request made with `fetch`, in order. */
  readonly sent: Sent[];
  readonly agent: Dispatcher;
  close(): Promise<void>;
}

function headersOf(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (!h) return out;
  new Headers(h as ConstructorParameters<typeof Headers>[0]).forEach((v, k) => (out[k] = v));
  return out;
}

/**
 * `fetch` through `proxyUrl`. Only `caPem` (leakwatch's CA) is trusted for the TLS inside the tunnel:
 * a request that bypassed the proxy, or a proxy that did not intercept, would fail verification.
 */
export function proxiedFetch(proxyUrl: string, caPem: string): ProxiedFetch {
  const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: caPem } });
  const sent: Sent[] = [];
  const f = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = input instanceof Request ? input.url : String(input);
    const body = init?.body;
    sent.push({
      method: (init?.method ?? 'GET').toUpperCase(),
      url,
      headers: headersOf(init?.headers),
      body: typeof body === 'string' ? body : body == null ? '' : '[non-string body]',
    });
    // undici's own fetch, so its dispatcher option applies; the SDK only needs the Response shape.
    return (await undiciFetch(url, { ...(init as object), dispatcher: agent } as never)) as unknown as Response;
  };
  return { fetch: f as typeof globalThis.fetch, sent, agent, close: () => agent.close() };
}

// ------------------------------------------------------------------------------------------------
// Dashboard API
// ------------------------------------------------------------------------------------------------

export interface Leak {
  readonly kind: string;
  readonly value: string;
  readonly where: string;
  readonly method: string;
}

export interface FlowItem {
  readonly id: number;
  readonly method: string;
  readonly url: string;
  readonly status: number | null;
  readonly category: string | null;
  readonly party: string | null;
  readonly rule: string | null;
  readonly severity: string;
  readonly verdict: string;
  readonly leaks: Leak[];
  readonly host: string;
  readonly path: string;
  readonly kinds: string[];
  readonly firstParty: boolean;
  readonly error: unknown;
}

export interface FlowDetail {
  readonly flow: FlowItem;
  readonly request: { headers: unknown; body: { text: string | null; size: number } | null };
  readonly response: unknown;
  readonly notes: unknown;
}

export interface DashboardClient {
  flows(query?: Record<string, string>): Promise<FlowItem[]>;
  flow(id: number): Promise<FlowDetail>;
  /** Polls `/api/flows` until `done(flows)` holds or `timeoutMs` passes; returns the last list. */
  waitFor(done: (flows: FlowItem[]) => boolean, timeoutMs: number): Promise<FlowItem[]>;
}

export function dashboardClient(dashboardUrl: string, token: string): DashboardClient {
  const get = async (path: string): Promise<unknown> => {
    // Plain global fetch: the dashboard is reached directly, not through the proxy.
    const res = await fetch(dashboardUrl + path, { headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
    return res.json();
  };
  const flows = async (query: Record<string, string> = {}): Promise<FlowItem[]> => {
    const qs = new URLSearchParams({ limit: '1000', ...query }).toString();
    return ((await get(`/api/flows?${qs}`)) as { flows: FlowItem[] }).flows;
  };
  return {
    flows,
    flow: async (id) => (await get(`/api/flows/${id}`)) as FlowDetail,
    async waitFor(done, timeoutMs) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const list = await flows();
        if (done(list) || Date.now() >= until) return list;
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
