// migfhir sync pull: find a patient on a remote endpoint by identifier, fetch the record —
// Patient/$everything when the server's CapabilityStatement lists it, else one paged search per
// Patient-compartment type and parameter —, fetch what the record refers to outside the
// compartment, map it with the endpoint's adapter and write it with a Provenance naming the
// endpoint. Writing merges into what is stored (keyed on identifiers), so pulling again never
// duplicates and pulling unchanged data writes nothing.
import type { Bundle, Resource } from 'fhir/r4.js';
import { loadDefinitions } from '../fhir/definitions.ts';
import { absoluteAddress, withoutVersion } from '../fhir/reference.ts';
import { referencesOf, type RecordInput } from '../mapping/fhir-r4/records.ts';
import type { FhirRecordInput } from '../mapping/fhir-r4/adapter.ts';
import { findAdapter } from '../mapping/registry.ts';
import { SyncError } from './errors.ts';
import type { RecordWriter, WriteSummary } from './local.ts';
import type { Progress } from './progress.ts';
import { withProvenance } from './provenance.ts';
import type { RemoteFhir } from './remote.ts';

/** Not copied: an audit trail belongs to the server that wrote it. */
const SKIPPED = new Set(['AuditEvent']);
const ID_CHUNK = 50;

export interface RemoteRecord {
  patientUrl: string;
  records: RecordInput[];
  via: '$everything' | 'compartment search';
  /** references to resources that could not be fetched (kept as absolute URLs) */
  unresolved: number;
}

class Collected {
  readonly byUrl = new Map<string, RecordInput>();
  private readonly base: string;
  constructor(base: string) {
    this.base = base;
  }

  add(page: Bundle): void {
    for (const e of page.entry ?? []) {
      const r = e.resource;
      if (!r?.id || e.search?.mode === 'outcome' || r.resourceType === 'OperationOutcome' || SKIPPED.has(r.resourceType)) continue;
      const fromFullUrl = e.fullUrl ? absoluteAddress(e.fullUrl) : undefined;
      // a fullUrl on another base (a proxy, a relabelled host) must not stand for this server's copy
      const url = fromFullUrl && fromFullUrl.base === this.base ? withoutVersion(e.fullUrl!) : `${this.base}/${r.resourceType}/${r.id}`;
      this.byUrl.set(url, { url, resource: r });
    }
  }
}

async function findPatient(remote: RemoteFhir, identifier: string): Promise<Resource> {
  const bundle = await remote.request<Bundle>('GET', `Patient?identifier=${encodeURIComponent(identifier)}&_count=2`);
  const matches = (bundle.entry ?? []).filter((e) => e.resource?.resourceType === 'Patient' && e.search?.mode !== 'include');
  if (!matches.length) throw new SyncError(`${remote.endpoint.id}: no Patient has the identifier ${identifier}`);
  if (matches.length > 1 || (bundle.total ?? 1) > 1) throw new SyncError(`${remote.endpoint.id}: several Patients have the identifier ${identifier}; give one that names a single person`);
  return matches[0].resource!;
}

async function viaCompartment(remote: RemoteFhir, patientId: string, into: Collected, progress: Progress): Promise<void> {
  const compartment = loadDefinitions().compartments.find((c) => c.code === 'Patient')!;
  const supported = await remote.supportedTypes();
  const types = Object.entries(compartment.resources).filter(([t]) => t !== 'Patient' && !SKIPPED.has(t) && supported.has(t));
  for (const [n, [type, params]] of types.entries()) {
    const listed = supported.get(type)!;
    for (const param of params.filter((p) => /^[a-z][a-z0-9-]*$/.test(p) && (!listed.size || listed.has(p)))) {
      const q = `${type}?${param}=${encodeURIComponent(`Patient/${patientId}`)}&_count=${remote.endpoint.pageSize}`;
      for await (const page of remote.pages(q)) {
        into.add(page);
        progress.update(`fetching ${type}`, n + 1, types.length);
      }
    }
  }
}

/** Fetches referenced resources outside the record (other patients excepted), three deep. */
async function referenced(remote: RemoteFhir, into: Collected, progress: Progress): Promise<number> {
  const base = remote.endpoint.baseUrl;
  const supported = await remote.supportedTypes();
  const tried = new Set<string>();
  let unresolved = 0;
  for (let depth = 0; depth < 3; depth++) {
    const wanted = new Map<string, string[]>();
    for (const { resource } of into.byUrl.values()) {
      for (const url of referencesOf(resource, base)) {
        const p = absoluteAddress(url);
        if (!p || p.base !== base || into.byUrl.has(url) || tried.has(url)) continue;
        tried.add(url);
        if (p.type === 'Patient' || SKIPPED.has(p.type) || !supported.has(p.type)) {
          unresolved++;
          continue;
        }
        wanted.set(p.type, [...(wanted.get(p.type) ?? []), p.id]);
      }
    }
    if (!wanted.size) break;
    for (const [type, ids] of wanted) {
      for (let i = 0; i < ids.length; i += ID_CHUNK) {
        const chunk = ids.slice(i, i + ID_CHUNK);
        try {
          for await (const page of remote.pages(`${type}?_id=${chunk.map(encodeURIComponent).join(',')}&_count=${ID_CHUNK}`)) into.add(page);
        } catch (err) {
          // a type this client may not read, or a server without _id search: keep the links
          if (!(err instanceof SyncError) || !err.status || err.status >= 500) throw err;
        }
        unresolved += chunk.filter((id) => !into.byUrl.has(`${base}/${type}/${id}`)).length;
        progress.update('fetching referenced resources', into.byUrl.size);
      }
    }
  }
  return unresolved;
}

/** The patient's record at the endpoint, each resource with its absolute URL there. */
export async function fetchRemoteRecord(remote: RemoteFhir, identifier: string, progress: Progress): Promise<RemoteRecord> {
  const base = remote.endpoint.baseUrl;
  progress.update('finding the patient', 0, undefined, true);
  const patient = await findPatient(remote, identifier);
  const into = new Collected(base);
  into.add({ resourceType: 'Bundle', type: 'searchset', entry: [{ resource: patient }] });
  const everything = await remote.supportsEverything();
  if (everything) {
    let total: number | undefined;
    for await (const page of remote.pages(`Patient/${encodeURIComponent(patient.id!)}/$everything?_count=${remote.endpoint.pageSize}`)) {
      total ??= page.total;
      into.add(page);
      progress.update('fetching $everything', into.byUrl.size, total);
    }
  } else {
    await viaCompartment(remote, patient.id!, into, progress);
  }
  const unresolved = await referenced(remote, into, progress);
  return { patientUrl: `${base}/Patient/${patient.id}`, records: [...into.byUrl.values()], via: everything ? '$everything' : 'compartment search', unresolved };
}

export interface PullResult extends Partial<WriteSummary> {
  fetched: number;
  via: RemoteRecord['via'];
  unresolved: number;
  /** the Bundle that was (or, with dry run, would be) applied */
  bundle: Bundle;
  requests: number;
}

export async function pull(remote: RemoteFhir, identifier: string, writer: RecordWriter | undefined, progress: Progress, recorded = new Date().toISOString()): Promise<PullResult> {
  const endpoint = remote.endpoint;
  const adapter = findAdapter(endpoint.adapter);
  if (!adapter?.toFhir) throw new SyncError(`${endpoint.id}: adapter '${endpoint.adapter}' has no inbound mapping`);
  const record = await fetchRemoteRecord(remote, identifier, progress);
  progress.update('mapping', record.records.length, undefined, true);
  const input: FhirRecordInput = { records: record.records, ...(writer?.base ? { receivingBase: writer.base } : {}) };
  const mapped = adapter.toFhir(input);
  const sender = { id: endpoint.id, display: `${endpoint.name ?? endpoint.id} (${endpoint.baseUrl})` };
  const { bundle, source } = withProvenance(mapped, { direction: 'pull', sender, patientUrl: record.patientUrl, adapter, recorded });
  const result: PullResult = { fetched: record.records.length, via: record.via, unresolved: record.unresolved, bundle, requests: remote.requests };
  if (!writer) return result;
  progress.update('writing', bundle.entry?.length ?? 0, undefined, true);
  return { ...result, ...(await writer.write(bundle, source)), requests: remote.requests };
}
