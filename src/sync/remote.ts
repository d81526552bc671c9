// One remote FHIR endpoint, through fhir-kit-client, with what a sync over unreliable links
// needs around it: a timeout per request, retries with exponential back-off (full jitter) on
// 429, 5xx (except 501/505) and network errors, honouring Retry-After; one token renewal on
// 401; and paging that never follows a `next` link off the endpoint's origin (the bearer token
// would go with it). Retrying POSTs is safe here because sync only POSTs transactions of
// conditional updates, which give the same result when applied twice. An endpoint that speaks
// FHIR XML only (format "xml" in endpoints.json, or found out by its 406/415 to JSON) is sent
// and read XML (src/fhir/xml), the rest of sync sees the same resources.
import { Client } from 'fhir-kit-client';
import { fromXml } from '../fhir/xml/parse.ts';
import { toXml } from '../fhir/xml/serialize.ts';
import type { Bundle, CapabilityStatement, Resource } from 'fhir/r4.js';
import { credentialsFor, type Credentials } from './auth.ts';
import type { Endpoint } from './endpoints.ts';
import { SyncError } from './errors.ts';

export interface RetryNotice {
  endpoint: string;
  /** the attempt that failed (1 = the first) */
  attempt: number;
  delayMs: number;
  reason: string;
}

export interface RemoteOptions {
  credentials?: Credentials;
  onRetry?: (notice: RetryNotice) => void;
}

interface ClientError extends Error {
  response?: { status?: number; data?: unknown };
  config?: { headers?: Headers };
  cause?: { code?: string };
}

const RETRY_STATUS = (s: number) => s === 408 || s === 429 || (s >= 500 && s !== 501 && s !== 505);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Retry-After in ms: delta-seconds or an HTTP date. */
export function retryAfterMs(value: string | null | undefined, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The first issue of an OperationOutcome answer, shortened, for the one-line error. */
function outcomeText(data: unknown): string {
  const issue = (data as { resourceType?: string; issue?: { code?: string; diagnostics?: string }[] })?.issue?.[0];
  if (!issue) return '';
  return `: ${issue.code ?? 'error'}${issue.diagnostics ? ` — ${issue.diagnostics.replace(/\s+/g, ' ').slice(0, 200)}` : ''}`;
}

export class RemoteFhir {
  readonly endpoint: Endpoint;
  private readonly client: Client;
  private readonly credentials: Credentials;
  private readonly onRetry?: (notice: RetryNotice) => void;
  private readonly origin: string;
  private capabilities?: CapabilityStatement;
  /** this endpoint is sent and answers FHIR XML */
  private xml: boolean;
  /** requests sent, retries included */
  requests = 0;

  constructor(endpoint: Endpoint, options: RemoteOptions = {}) {
    this.endpoint = endpoint;
    this.client = new Client({ baseUrl: endpoint.baseUrl });
    this.credentials = options.credentials ?? credentialsFor(endpoint);
    this.onRetry = options.onRetry;
    this.origin = new URL(endpoint.baseUrl).origin;
    this.xml = endpoint.format === 'xml';
  }

  /** An XML answer as a resource (fhir-kit-client reads JSON only: it hands XML over as text in
   * an error, 2xx included); undefined when the answer is not XML. */
  private xmlAnswer(data: unknown): Resource | undefined {
    if (typeof data !== 'string' || !data.trimStart().startsWith('<')) return undefined;
    try {
      return fromXml(data, { maxDepth: 1000 }) as unknown as Resource;
    } catch (err) {
      throw new SyncError(`${this.endpoint.id}: the answer is not FHIR XML: ${(err as Error).message.slice(0, 200)}`);
    }
  }

  /** method and path, for messages: never the query (it may hold identifiers) */
  private label(method: string, url: string): string {
    const path = url.startsWith('http') ? new URL(url).pathname : `/${url.split('?')[0]}`;
    return `${this.endpoint.id}: ${method} ${path}`;
  }

  async request<T = Resource>(method: 'GET' | 'POST', url: string, body?: unknown): Promise<T> {
    if (url.startsWith('http') && new URL(url).origin !== this.origin) {
      throw new SyncError(`${this.endpoint.id}: refused to follow a link to another origin (${new URL(url).origin})`);
    }
    const { attempts, baseDelayMs, maxDelayMs, maxRetryAfterMs } = this.endpoint.retry;
    let renew = false;
    let renewed = false;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let wait: number | undefined;
      try {
        this.requests++;
        const type = this.xml ? 'application/fhir+xml' : 'application/fhir+json';
        const headers = { ...(await this.credentials.headers(renew)), accept: type, ...(body !== undefined ? { 'content-type': type } : {}) };
        renew = false;
        const sent = this.xml && body !== undefined ? toXml(body as object) : body;
        return (await this.client.request(url, { method, body: sent, options: { headers, signal: AbortSignal.timeout(this.endpoint.timeoutMs) } })) as T;
      } catch (err) {
        if (err instanceof SyncError) throw err;
        const e = err as ClientError;
        const status = e.response?.status;
        if (status !== undefined && e.response) {
          const answer = this.xmlAnswer(e.response.data);
          if (answer && status >= 200 && status < 300) return answer as T;
          if (answer) e.response.data = answer;
        }
        if ((status === 406 || status === 415) && !this.xml) {
          // JSON refused: an XML-only server; the same request again in XML
          this.xml = true;
          attempt--;
          continue;
        }
        if (status === 401 && this.endpoint.auth?.type === 'smart-backend-services' && !renewed) {
          renewed = renew = true; // the token may have been revoked or expired early: renew it once
          attempt--;
          continue;
        }
        if (status !== undefined) {
          if (!RETRY_STATUS(status)) throw new SyncError(`${this.label(method, url)} failed: HTTP ${status}${outcomeText(e.response?.data)}`, status);
          reason = `HTTP ${status}`;
          wait = retryAfterMs(e.config?.headers?.get?.('retry-after'));
        } else if (e.name === 'TimeoutError' || e.name === 'AbortError') {
          reason = `no answer within ${this.endpoint.timeoutMs} ms`;
        } else if (e instanceof TypeError || e.cause?.code) {
          reason = `network error (${e.cause?.code ?? e.message})`;
        } else {
          throw new SyncError(`${this.label(method, url)} failed: ${e.message.slice(0, 200)}`);
        }
        if (attempt >= attempts) throw new SyncError(`${this.label(method, url)} failed after ${attempt} attempt${attempt > 1 ? 's' : ''}: ${reason}`, status);
        if (wait !== undefined && wait > maxRetryAfterMs) {
          throw new SyncError(`${this.label(method, url)} failed: ${reason}, and Retry-After asks for ${Math.round(wait / 1000)} s (more than ${Math.round(maxRetryAfterMs / 1000)} s)`, status);
        }
        const delay = wait ?? Math.random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
        this.onRetry?.({ endpoint: this.endpoint.id, attempt, delayMs: Math.round(delay), reason });
        await sleep(delay);
      }
    }
  }

  async capabilityStatement(): Promise<CapabilityStatement> {
    this.capabilities ??= await this.request<CapabilityStatement>('GET', 'metadata');
    return this.capabilities;
  }

  /** Whether the server lists Patient/$everything (at type level or as a system operation). */
  async supportsEverything(): Promise<boolean> {
    const rest = (await this.capabilityStatement()).rest?.find((r) => r.mode === 'server');
    const ops = [...(rest?.resource?.find((r) => r.type === 'Patient')?.operation ?? []), ...(rest?.operation ?? [])];
    return ops.some((o) => o.name === 'everything' || o.name === '$everything' || /\/Patient-everything(\|.*)?$/.test(o.definition ?? ''));
  }

  /** The resource types the server lists, with the search parameters it lists for each. */
  async supportedTypes(): Promise<Map<string, Set<string>>> {
    const rest = (await this.capabilityStatement()).rest?.find((r) => r.mode === 'server');
    return new Map((rest?.resource ?? []).map((r) => [r.type, new Set((r.searchParam ?? []).map((p) => p.name))]));
  }

  /** Every page of a search: the pages' entries, `next` link after `next` link. */
  async *pages(first: string): AsyncGenerator<Bundle> {
    let url: string | undefined = first;
    for (let n = 0; url; n++) {
      if (n >= 10_000) throw new SyncError(`${this.endpoint.id}: more than 10,000 pages; stopped`);
      const page: Bundle = await this.request<Bundle>('GET', url);
      if (page.resourceType !== 'Bundle') throw new SyncError(`${this.label('GET', url)} answered a ${String(page.resourceType)}, not a Bundle`);
      yield page;
      const next = page.link?.find((l) => l.relation === 'next')?.url;
      url = next && next !== url ? next : undefined;
    }
  }
}
