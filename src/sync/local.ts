// The two sides a sync reads from and writes to: this installation's store (through the same
// code the server runs: validation on write, the adapter apply path with merging, audit) or a
// FHIR server over HTTP (--to URL: a running migfhir, or any FHIR server).
import type { Bundle, BundleEntry, Resource } from 'fhir/r4.js';
import type { Config } from '../config.ts';
import { FhirError } from '../fhir/errors.ts';
import { absoluteAddress } from '../fhir/reference.ts';
import { resourceOf } from '../fhir/body.ts';
import { applyAdapterBundle, writtenPatient } from '../mapping/apply.ts';
import { referencesOf } from '../mapping/fhir-r4/records.ts';
import { everything } from '../operations/everything.ts';
import type { Context, FhirRequest } from '../rest/types.ts';
import { SyncError } from './errors.ts';
import type { RemoteFhir } from './remote.ts';

export interface WriteSummary {
  /** the source was applied before: nothing was written */
  duplicate: boolean;
  created: number;
  /** updated, or unchanged (a no-op update writes no version) */
  updated: number;
  /** the patient's reference where it was written */
  patient?: string;
}

export interface RecordWriter {
  /** base URL of the receiving server, when known (its own resources are addressed by id) */
  base?: string;
  write(bundle: Bundle, source: string): Promise<WriteSummary>;
}

function summarize(response: Bundle): WriteSummary {
  const statuses = (response.entry ?? []).map((e) => e.response?.status ?? '');
  const patient = writtenPatient(response);
  return {
    duplicate: false,
    created: statuses.filter((s) => s.startsWith('201')).length,
    updated: statuses.filter((s) => s.startsWith('200')).length,
    ...(patient ? { patient } : {}),
  };
}

export function localBase(config: Config): string {
  return config.baseUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}${config.basePath}`;
}

/** A request as the sync makes it on this installation: the operator's, with file access. */
export function localRequest(config: Config): FhirRequest {
  return { method: 'POST', baseUrl: localBase(config), query: Object.create(null), headers: {} };
}

/** Writes into this installation's store with merge semantics, audited like a transaction. */
export function localWriter(ctx: Context, req: FhirRequest, clientId: string): RecordWriter {
  return {
    base: req.baseUrl,
    async write(bundle, source) {
      return ctx.repo.transaction(async () => {
        const applied = await applyAdapterBundle(req, ctx, bundle, source);
        if (applied.duplicateOf) return { duplicate: true, created: 0, updated: 0 };
        const summary = summarize(resourceOf<Bundle>(applied.response.body!));
        await ctx.audit?.inTransaction({ interaction: 'transaction', action: 'E', status: 200, clientId, patient: summary.patient, description: 'migfhir sync' });
        return summary;
      });
    },
  };
}

/** Writes to a FHIR server: once per source (checked by _source), as a plain transaction. */
export function remoteWriter(remote: RemoteFhir): RecordWriter {
  return {
    base: remote.endpoint.baseUrl,
    async write(bundle, source) {
      const seen = await remote.request<Bundle>('GET', `Provenance?_source=${encodeURIComponent(source)}&_summary=count`);
      if ((seen.total ?? 0) > 0) return { duplicate: true, created: 0, updated: 0 };
      // the merge mode means something to this server's apply path only
      const entry = (bundle.entry ?? []).map(({ extension: _x, ...e }) => (void _x, e as BundleEntry));
      return summarize(await remote.request<Bundle>('POST', remote.endpoint.baseUrl, { ...bundle, entry }));
    },
  };
}

/** References to other resources of the store, not yet in `have`, patients excepted. */
function missing(resources: Resource[], base: string, have: Set<string>): Map<string, { type: string; id: string }> {
  const out = new Map<string, { type: string; id: string }>();
  for (const r of resources) {
    for (const url of referencesOf(r, base)) {
      const p = absoluteAddress(url);
      const key = p && `${p.type}/${p.id}`;
      if (p && key && p.base === base && p.type !== 'Patient' && !have.has(key)) out.set(key, p);
    }
  }
  return out;
}

/**
 * The patient's record in this store: Patient/$everything (AuditEvents left out: an audit trail
 * stays where it was written) and what it refers to outside the compartment (practitioners,
 * organizations, locations, medications), three references deep.
 */
export async function localRecord(ctx: Context, req: FhirRequest, patientId: string, onProgress?: (n: number) => void): Promise<Resource[]> {
  const out: Resource[] = [];
  const have = new Set<string>();
  let page: string | undefined;
  do {
    const query: Record<string, string[]> = Object.assign(Object.create(null), { _count: [String(ctx.config.maxCount)] }, page ? { _page: [page] } : {});
    let res;
    try {
      res = await everything({ ...req, method: 'GET', resourceType: 'Patient', id: patientId, query }, ctx);
    } catch (err) {
      if (err instanceof FhirError && (err.status === 404 || err.status === 410)) throw new SyncError(`no Patient/${patientId} in the local store`, err.status);
      throw err;
    }
    const bundle = resourceOf<Bundle>(res.body!);
    for (const e of bundle.entry ?? []) {
      if (!e.resource || e.resource.resourceType === 'AuditEvent') continue;
      out.push(e.resource);
      have.add(`${e.resource.resourceType}/${e.resource.id}`);
    }
    onProgress?.(out.length);
    const next = bundle.link?.find((l) => l.relation === 'next')?.url;
    page = next ? (new URL(next).searchParams.get('_page') ?? undefined) : undefined;
  } while (page);
  for (let depth = 0; depth < 3; depth++) {
    const refs = missing(out, req.baseUrl, have);
    if (!refs.size) break;
    for (const [key, { type, id }] of refs) {
      have.add(key);
      if (!ctx.types.has(type)) continue;
      const v = await ctx.repo.store.current(type, id);
      if (v && !v.deleted && v.json) out.push(JSON.parse(v.json) as Resource);
    }
    onProgress?.(out.length);
  }
  return out;
}
