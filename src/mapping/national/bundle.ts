// A national FHIR profile adapter, assembled from a country's table and hooks. Inbound
// (toFhir): the national resources (a Bundle of any type, or one resource) become a
// transaction Bundle of conditional updates keyed on identifiers, which src/mapping/apply.ts
// applies with merge semantics, plus a Provenance naming the national sender, this adapter and
// the input it came from. Outbound (fromFhir): stored resources become a national Bundle
// (collection, or the country's message envelope). Both are pure: the same input gives the
// same output (fullUrls and the Provenance's source derive from the input's content).
import { createHash } from 'node:crypto';
import type { Bundle, BundleEntry, Extension, Identifier, Patient, Provenance, Resource } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { withoutVersion } from '../../fhir/reference.ts';
import { WRITE_MODE } from '../conventions.ts';
import type { Adapter } from '../registry.ts';
import { identifierQuery } from '../hl7v2/to-fhir.ts';
import { nationalNames } from './names.ts';
import { IdentifierTable, patientFromFhir, patientToFhir, type MappingWarning } from './patient.ts';
import type { NationalTable } from './table.ts';

export interface NationalEntry {
  fullUrl?: string;
  resource: Resource;
  /** where the caller sent it, for error locations */
  path: string;
}

export interface NationalInput {
  /** a national Bundle (collection, transaction, batch, searchset, message) or one resource */
  body: Resource;
  /** when migfhir received it (Provenance.recorded); defaults to now */
  received?: string;
  /** the sending system as the caller names it (Provenance author) */
  sender?: string;
}

export interface Unwrapped {
  entries: NationalEntry[];
  sender?: string;
  /** the input's own id (Bundle.identifier, MessageHeader id), recorded in Provenance.entity */
  messageId?: Identifier;
}

/** What a country adds to the table for a resource type other than Patient. */
export interface ResourceMapper {
  /** national → migfhir; `patientUrl` resolves a reference to a Patient of the same input */
  toFhir(r: Resource, ctx: { path: string; warnings: MappingWarning[]; patientUrl: (ref: string | undefined) => string | undefined; patientAt: (url: string) => Patient }): { resource: Resource; key: Identifier[] };
  fromFhir(r: Resource, ctx: { patients: Patient[] }): Resource;
  /** search parameter linking it to its patient, for Patient/[id]/$export-national */
  patientParam: string;
}

export interface NationalSpec {
  table: NationalTable;
  /** national → migfhir Patient, after the table-driven mapping */
  patientToFhir?: (national: Patient, out: Patient, path: string, warnings: MappingWarning[]) => void;
  /** migfhir → national Patient, after the table-driven mapping; `all` holds every resource exported */
  patientFromFhir?: (stored: Patient, out: Patient, all: Resource[]) => void;
  resources?: Record<string, ResourceMapper>;
  /** reads a country's envelope (e.g. an IHE PMIR message); the default reads any Bundle */
  unwrap?: (body: Resource) => Unwrapped;
  /** wraps the outbound resources (e.g. as a message); the default is a collection Bundle */
  wrap?: (resources: Resource[], options: OutboundOptions) => Bundle;
}

export interface OutboundOptions {
  now: string;
  /** base URL of the entries' fullUrls */
  baseUrl?: string;
}

export interface MappedNational {
  bundle: Bundle;
  warnings: MappingWarning[];
  /** meta.source of the Provenance: derived from the input's content, so a re-send is recognised */
  source: string;
}

export const SOURCE_PREFIX = 'urn:migfhir:national:';

/** urn:uuid (version-5 layout) derived from a seed, so mapping is deterministic. */
export function derivedUrl(seed: string, n: number): string {
  const h = createHash('sha1').update(`${seed}#${n}`).digest('hex');
  return `urn:uuid:${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h[16], 16) & 3) | 8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The entries of any Bundle type (a message's focus and a nested history Bundle included), or one resource. */
export function defaultUnwrap(body: Resource): Unwrapped {
  if (body.resourceType !== 'Bundle') return { entries: [{ resource: body, path: body.resourceType }] };
  const b = body as Bundle;
  const entries: NationalEntry[] = [];
  (b.entry ?? []).forEach((e, i) => {
    if (!e.resource) throw new FhirError(422, { code: 'required', diagnostics: `Bundle.entry[${i}] has no resource`, expression: [`Bundle.entry[${i}]`] });
    if (e.request?.method === 'DELETE') throw new FhirError(422, { code: 'not-supported', diagnostics: `Bundle.entry[${i}]: national adapters do not delete`, expression: [`Bundle.entry[${i}].request`] });
    if (e.resource.resourceType === 'Bundle') {
      for (const inner of defaultUnwrap(e.resource).entries) entries.push({ ...inner, path: `Bundle.entry[${i}].resource.${inner.path}` });
    } else entries.push({ fullUrl: e.fullUrl, resource: e.resource, path: `Bundle.entry[${i}].resource` });
  });
  return { entries, ...(b.identifier?.value ? { messageId: b.identifier } : {}) };
}

function refKeys(e: NationalEntry): string[] {
  const keys = e.fullUrl ? [e.fullUrl] : [];
  if (e.resource.id) keys.push(`${e.resource.resourceType}/${e.resource.id}`);
  if (e.fullUrl && e.resource.id && /^https?:/.test(e.fullUrl)) keys.push(withoutVersion(e.fullUrl));
  return keys;
}

function entryOf(url: string, resource: Resource, key: Identifier[]): BundleEntry {
  const extension: Extension[] = [{ url: WRITE_MODE, valueCode: 'merge' }];
  return { fullUrl: url, extension, resource, request: { method: 'PUT', url: identifierQuery(resource.resourceType, key) } } as BundleEntry;
}

export function nationalToFhir(spec: NationalSpec, ids: IdentifierTable, input: NationalInput): MappedNational {
  const { table } = spec;
  const unwrapped = (spec.unwrap ?? defaultUnwrap)(input.body);
  const source = `${SOURCE_PREFIX}${table.id}:${createHash('sha256').update(JSON.stringify(input.body)).digest('hex')}`;
  const warnings: MappingWarning[] = [];
  const entries: BundleEntry[] = [];
  const urls = new Map<string, string>();
  const patients = new Map<string, Patient>();
  let n = 0;
  for (const e of unwrapped.entries) {
    if (e.resource.resourceType !== 'Patient') continue;
    const url = derivedUrl(source, n++);
    const p = patientToFhir(table, ids, e.resource as Patient, e.path, warnings);
    spec.patientToFhir?.(e.resource as Patient, p, e.path, warnings);
    for (const k of refKeys(e)) urls.set(k, url);
    patients.set(url, p);
    entries.push(entryOf(url, p, p.identifier!.filter((i) => i.system && i.value)));
  }
  if (!patients.size) throw new FhirError(422, { code: 'required', diagnostics: `The ${table.id} adapter needs a Patient in the input`, expression: ['Bundle.entry'] });
  for (const e of unwrapped.entries) {
    const type = e.resource.resourceType;
    if (type === 'Patient') continue;
    const mapper = spec.resources?.[type];
    if (!mapper) {
      throw new FhirError(422, { code: 'not-supported', diagnostics: `${e.path}: the ${table.id} adapter maps ${['Patient', ...Object.keys(spec.resources ?? {})].join(', ')}, not ${type}`, expression: [e.path] });
    }
    // without a reference, the one Patient of the input is meant
    const patientUrl = (ref: string | undefined) => (ref ? urls.get(ref) : patients.size === 1 ? [...patients.keys()][0] : undefined);
    const { resource, key } = mapper.toFhir(e.resource, { path: e.path, warnings, patientUrl, patientAt: (url) => patients.get(url)! });
    entries.push(entryOf(derivedUrl(source, n++), resource, key));
  }
  const provenance: Provenance = {
    resourceType: 'Provenance',
    meta: { source },
    target: entries.map((e) => ({ reference: e.fullUrl! })),
    recorded: input.received ?? new Date().toISOString(),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE', display: 'revise' }] },
    agent: [
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'author' }] }, who: { display: input.sender ?? unwrapped.sender ?? `${table.system} (sender not named)` } },
      { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler' }] }, who: { identifier: { system: 'https://migfhir.org/fhir/sid/adapter', value: table.id }, display: `migfhir adapter ${table.id} ${table.version}` } },
    ],
    entity: [{ role: 'source', what: { ...(unwrapped.messageId ? { identifier: unwrapped.messageId } : {}), display: `${table.system} (${table.title})` } }],
  };
  entries.push({ fullUrl: derivedUrl(source, n++), resource: provenance, request: { method: 'POST', url: 'Provenance', ifNoneExist: `_source=${encodeURIComponent(source)}` } });
  return { bundle: { resourceType: 'Bundle', type: 'transaction', entry: entries }, warnings, source };
}

export function nationalFromFhir(spec: NationalSpec, ids: IdentifierTable, resources: Resource[], options: OutboundOptions): Bundle {
  const patients = resources.filter((r): r is Patient => r.resourceType === 'Patient');
  const out: Resource[] = [];
  for (const r of resources) {
    if (r.resourceType === 'Patient') {
      const p = patientFromFhir(spec.table, ids, r as Patient);
      spec.patientFromFhir?.(r as Patient, p, resources);
      nationalNames(spec.table, p);
      if (spec.table.minIdentifiers && (p.identifier?.length ?? 0) < spec.table.minIdentifiers) {
        throw new FhirError(422, { code: 'business-rule', diagnostics: `Patient.identifier: the ${spec.table.id} national profile requires an identifier the patient can be exported with; the patient has none`, expression: ['Patient.identifier'] });
      }
      out.push(p);
      continue;
    }
    const mapper = spec.resources?.[r.resourceType];
    if (mapper) out.push(mapper.fromFhir(r, { patients }));
  }
  if (spec.wrap) return spec.wrap(out, options);
  return {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: options.now,
    entry: out.map((resource) => ({ ...(options.baseUrl && resource.id ? { fullUrl: `${options.baseUrl}/${resource.resourceType}/${resource.id}` } : {}), resource })),
  };
}

export type NationalAdapter = Adapter<NationalInput, Bundle, OutboundOptions> & {
  spec: NationalSpec;
  map(input: NationalInput): MappedNational;
};

/** The registry entry of a national profile adapter. */
export function nationalAdapter(spec: NationalSpec): NationalAdapter {
  const ids = new IdentifierTable(spec.table.identifiers);
  const { table } = spec;
  return {
    id: table.id,
    version: table.version,
    title: table.title,
    country: table.country,
    system: table.system,
    formats: ['application/fhir+json'],
    directions: ['inbound', 'outbound'],
    operations: [`$import-national?adapter=${table.id}`, `Patient/[id]/$export-national?adapter=${table.id}`],
    spec,
    map: (input) => nationalToFhir(spec, ids, input),
    toFhir: (input) => nationalToFhir(spec, ids, input).bundle,
    fromFhir: (resources, options) => nationalFromFhir(spec, ids, resources, options),
  };
}
