// history at instance, type and system level: https://hl7.org/fhir/R4/http.html#history
// A Bundle of type history, newest first, with _count, _since, _at and keyset paging: the
// opaque _page cursor names a position in the write sequence, so pages stay correct while
// new versions are written.
import type { BundleLink } from 'fhir/r4.js';
import { badRequest } from '../fhir/errors.ts';
import { authorize, authorizeAll } from '../auth/authorize.ts';
import { parseDateRange } from '../fhir/datetime.ts';
import { bundleText } from '../fhir/bundle.ts';
import type { HistoryEntry, HistoryQuery } from '../store/types.ts';
import type { Context, FhirRequest, Handler } from './types.ts';

const KNOWN = new Set(['_count', '_since', '_at', '_page', '_format', '_pretty']);

export function pageCount(req: FhirRequest, ctx: Context): number {
  const raw = req.query._count?.[0];
  if (raw === undefined) return ctx.config.defaultCount;
  if (!/^\d{1,9}$/.test(raw)) throw badRequest('_count must be a non-negative whole number', 'value');
  return Math.min(Number(raw), ctx.config.maxCount);
}

function instant(name: string, value: string) {
  const r = parseDateRange(value);
  if (!r) throw badRequest(`${name} must be a FHIR date, dateTime or instant`, 'value');
  return r;
}

/** b: older than, a: newer than; bl / al: the second sequence of an engine that merges two
 * (HistoryEntry.older / newer) */
type Cursor = { b: number; bl?: number } | { a: number; al?: number };

function encodeCursor(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeCursor(token: string): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    const second = (n: unknown) => n === undefined || Number.isSafeInteger(n);
    if ((Number.isSafeInteger(c?.b) && second(c.bl)) || (Number.isSafeInteger(c?.a) && second(c.al))) return c;
  } catch {
    // fall through
  }
  throw badRequest('_page is not a cursor this server issued', 'value');
}

function entryOf(req: FhirRequest, e: HistoryEntry) {
  const instanceUrl = `${e.resourceType}/${e.id}`;
  const status = e.method === 'POST' ? '201 Created' : e.method === 'DELETE' ? '204 No Content' : '200 OK';
  return {
    fullUrl: `${req.baseUrl}/${instanceUrl}`,
    resourceJson: e.json,
    extra: {
      request: { method: e.method, url: e.method === 'POST' ? e.resourceType : instanceUrl },
      response: {
        status,
        etag: `W/"${e.versionId}"`,
        lastModified: e.lastUpdated,
      },
    },
  };
}

export const history: Handler = async (req, ctx) => {
  if (req.resourceType) authorize(req.auth, req.resourceType, 'r');
  else authorizeAll(req.auth, 'r');
  for (const name of Object.keys(req.query)) {
    if (!KNOWN.has(name)) throw badRequest(`Unknown history parameter '${name.slice(0, 64)}'`, 'not-supported');
  }
  const count = pageCount(req, ctx);
  const q: HistoryQuery = { resourceType: req.resourceType, id: req.id, count };
  const since = req.query._since?.[0];
  if (since !== undefined) q.since = new Date(instant('_since', since).start).toISOString();
  const at = req.query._at?.[0];
  if (at !== undefined) {
    const r = instant('_at', at);
    q.atStart = new Date(r.start).toISOString();
    q.atEnd = new Date(r.end).toISOString();
  }
  const page = req.query._page?.[0];
  if (page !== undefined) {
    const c = decodeCursor(page);
    if ('b' in c) {
      q.beforeSeq = c.b;
      if (c.bl !== undefined) q.beforeLedgerSeq = c.bl;
    } else {
      q.afterSeq = c.a;
      if (c.al !== undefined) q.afterLedgerSeq = c.al;
    }
  }
  const result = await ctx.repo.store.history(q);
  const total = result.total;

  const path = [req.resourceType, req.id, '_history'].filter(Boolean).join('/');
  const base = new URLSearchParams();
  if (req.query._count) base.set('_count', String(count));
  if (since !== undefined) base.set('_since', since);
  if (at !== undefined) base.set('_at', at);
  const url = (cursor?: Cursor) => {
    const p = new URLSearchParams(base);
    if (cursor) p.set('_page', encodeCursor(cursor));
    const qs = p.toString();
    return `${req.baseUrl}/${path}${qs ? `?${qs}` : ''}`;
  };
  const link: BundleLink[] = [{ relation: 'self', url: url(page !== undefined ? decodeCursor(page) : undefined) }];
  link.push({ relation: 'first', url: url() });
  const entries = result.entries;
  const [newest, oldest] = [entries[0], entries[entries.length - 1]];
  if (result.hasNewer && entries.length) link.push({ relation: 'previous', url: url(newest.newer ? { a: newest.newer[0], al: newest.newer[1] } : { a: newest.seq }) });
  if (result.hasOlder && entries.length) link.push({ relation: 'next', url: url(oldest.older ? { b: oldest.older[0], bl: oldest.older[1] } : { b: oldest.seq }) });
  return {
    status: 200,
    body: bundleText('history', entries.map((e) => entryOf(req, e)), { total, link }),
  };
};
