// Applies an adapter's transaction Bundle to the store with merge semantics. The Bundle's
// conditional updates (PUT Patient?identifier=…) are resolved here, inside one store
// transaction, and each becomes an update of the stored resource merged with the incoming one:
// - an element the message does not carry is kept (HL7 v2: "not sent" is not "delete"); an
//   element the message explicitly nulled is removed (adapter-remove-element);
// - identifiers, links, extensions (per URL) and languages are united, never dropped;
// - names replace the stored names written in the same script and keep the others: a national
//   register or hospital that holds a person in Latin letters updates that name without erasing
//   the name in the script of the country of origin another source gave;
// - a match that was merged into another record (link replaced-by) is followed to the
//   surviving record, so a late message using an old identifier never revives a merged record;
// - mode merged-record (A40's prior patient)
//   updates it when stored and otherwise creates it, inactive and linked to the survivor, so a
//   merge is recorded even when the merged record never reached this server.
// The rewritten Bundle then goes through the ordinary transaction handler: all or nothing.
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, HumanName, Identifier, Patient, Resource } from 'fhir/r4.js';
import { authorize } from '../auth/authorize.ts';
import { FhirError } from '../fhir/errors.ts';
import { parseReference, resourceAddress } from '../fhir/reference.ts';
import { processBundle } from '../rest/bundle.ts';
import type { PreparedBundle, PreparedEntry } from '../rest/bundle-prepared.ts';
import { criteria, queryFromHeader } from '../rest/conditional.ts';
import type { Context, FhirRequest, FhirResponse } from '../rest/types.ts';
import { REMOVE, WRITE_MODE } from './conventions.ts';
import type { AbsentMatches } from './absent-matches.ts';

const MIGRATION_STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

/** Extensions merge per URL, except migration statuses: each status a country granted is one
 * entry of the history, so a status from one source never erases another's. */
function extensionKey(e: { url: string; extension?: { url: string; valueCodeableConcept?: { coding?: { code?: string }[] } }[] }): string {
  if (e.url !== MIGRATION_STATUS) return e.url;
  const code = (part: string) => e.extension?.find((x) => x.url === part)?.valueCodeableConcept?.coding?.[0]?.code ?? '';
  return `${e.url}|${code('status')}|${code('grantingCountry')}`;
}

const KEYED: Record<string, (x: any) => string | undefined> = {
  identifier: (i: Identifier) => `${i.system}|${i.value}`,
  link: (l: Patient['link'] extends (infer L)[] | undefined ? L : never) => l.other?.reference,
  extension: extensionKey,
  communication: (c: { language?: { coding?: { code?: string }[]; text?: string } }) => c.language?.coding?.[0]?.code ?? c.language?.text,
};
/** The writing system of a name: the Unicode script of its first letter ('none' without one). */
const SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Arabic', 'Hebrew', 'Armenian', 'Georgian', 'Ethiopic', 'Devanagari', 'Bengali', 'Tamil', 'Thai', 'Myanmar', 'Khmer', 'Han', 'Hangul', 'Hiragana', 'Katakana', 'Tibetan', 'Sinhala'].map((name) => [name, new RegExp(`\\p{Script=${name}}`, 'u')] as const);
export function nameScript(n: HumanName): string {
  for (const ch of [n.family ?? '', ...(n.given ?? []), n.text ?? ''].join(' ')) {
    if (!/\p{L}/u.test(ch)) continue;
    return SCRIPTS.find(([, re]) => re.test(ch))?.[0] ?? 'other';
  }
  return 'none';
}

/** Choice elements: a new deceasedDateTime replaces a stored deceasedBoolean. */
const CHOICES = ['deceased', 'multipleBirth'];

/** Stored ⊕ incoming, by the rules above. */
export function mergeResource(stored: Resource, incoming: Resource, removed: string[] = []): Resource {
  const out: Record<string, unknown> = { ...(stored as unknown as Record<string, unknown>) };
  const meta = { ...((stored.meta ?? {}) as Record<string, unknown>) };
  delete meta.versionId;
  delete meta.lastUpdated;
  if (Object.keys(meta).length) out.meta = meta;
  else delete out.meta;
  for (const [k, v] of Object.entries(incoming)) {
    if (k === 'resourceType' || k === 'id' || k === 'meta') continue;
    const choice = CHOICES.find((c) => k.startsWith(c));
    if (choice) for (const s of Object.keys(out)) if (s.startsWith(choice) && s !== k) delete out[s];
    if (!(`_${k}` in incoming)) delete out[`_${k}`];
    const key = KEYED[k];
    if (key && Array.isArray(v) && Array.isArray(out[k])) {
      const keys = new Set(v.map(key));
      out[k] = [...v, ...(out[k] as unknown[]).filter((x) => !keys.has(key(x)))];
    } else if (k === 'name' && Array.isArray(v) && Array.isArray(out[k])) {
      const scripts = new Set((v as HumanName[]).map(nameScript));
      out[k] = [...v, ...(out[k] as HumanName[]).filter((n) => !scripts.has(nameScript(n)))];
    } else out[k] = v;
  }
  for (const r of removed) {
    delete out[r];
    delete out[`_${r}`];
  }
  return out as unknown as Resource;
}

interface Resolved {
  id?: string;
  stored?: Resource;
  /** identifiers of merged-away records that led here */
  replaced: Identifier[];
}

async function resolve(req: FhirRequest, ctx: Context, type: string, url: string, followLinks: boolean, absent?: AbsentMatches): Promise<Resolved> {
  authorize(req.auth, type, 's', 'r');
  // the batch's one search showed that nothing matches (absent-matches.ts)
  if (absent?.identifierAbsent(type, url)) return { replaced: [] };
  const query = await criteria(req, ctx, type, queryFromHeader(url));
  const found = await ctx.repo.search({ ...query, count: 20 });
  const finals = new Map<string, Resource>();
  const replaced: Identifier[] = [];
  for (const m of found.matches) {
    // the match carries the current version, read in this transaction: no second read
    let r = JSON.parse(m.json) as Resource & Patient;
    for (let hop = 0; followLinks && hop < 5; hop++) {
      const next = r.link?.find((l) => l.type === 'replaced-by')?.other?.reference;
      const ref = next ? parseReference(next) : undefined;
      const id = ref?.kind === 'relative' && ref.type === 'Patient' && ref.version === undefined ? ref.id : undefined;
      if (!id) break;
      replaced.push(...(r.identifier ?? []));
      r = JSON.parse((await ctx.repo.read(type, id)).json!) as Resource & Patient;
    }
    finals.set(r.id!, r);
  }
  if (finals.size > 1) {
    throw new FhirError(412, { code: 'multiple-matches', diagnostics: `The identifiers match ${finals.size} different ${type} records; merge them first (Patient/$merge or ADT^A40)` });
  }
  const [stored] = finals.values();
  return { id: stored?.id, stored, replaced };
}

export interface Applied {
  response: FhirResponse;
  /** the stored Provenance when this message had been applied before (nothing was written) */
  duplicateOf?: string;
}

/** `Patient/id` of the first Patient the transaction wrote (its response entry's Location). */
export function writtenPatient(response: Bundle): string | undefined {
  for (const e of response.entry ?? []) {
    const written = e.response?.location ? resourceAddress(e.response.location) : undefined;
    if (written?.type === 'Patient') return `Patient/${written.id}`;
  }
  return undefined;
}

/** An adapter Bundle prepared ahead, off the main thread (src/rest/bundle-prepared.ts), per entry
 * of the adapter's Bundle, at the prepare pool's stamp (the stored conformance resources it was
 * prepared with). */
export interface PreparedAdapterBundle extends PreparedBundle {
  stamp: number;
}

/** Applies an adapter Bundle; `source` is the message id its Provenance carries in meta.source.
 * `absent`: the batch's look-ups known to match nothing (absent-matches.ts), when applied in one.
 * `prepared`: its entries prepared ahead; an entry keeps its preparation only when this applies
 * it as given (a resource created, not merged with a stored one), and only while the
 * conformance resources it was prepared with are the current ones. */
export async function applyAdapterBundle(req: FhirRequest, ctx: Context, input: Bundle, source: string, prepared?: PreparedAdapterBundle, absent?: AbsentMatches): Promise<Applied> {
  const ahead = prepared && prepared.stamp === ctx.prepare?.stamp ? prepared : undefined;
  return ctx.repo.transaction(async () => {
    authorize(req.auth, 'Provenance', 's');
    if (!absent?.sourceAbsent(source)) {
      const seen = await ctx.repo.search({ ...(await criteria(req, ctx, 'Provenance', { _source: [source] })), count: 1 });
      if (seen.matches.length) return { duplicateOf: `Provenance/${seen.matches[0].id}`, response: { status: 200 } };
    }
    const claimed = new Map<string, number>();
    const entries: BundleEntry[] = [];
    // per entry of the transaction: its preparation, when still valid
    const kept: (PreparedEntry | undefined)[] = [];
    for (const [i, e] of (input.entry ?? []).entries()) {
      kept[entries.length] = ahead?.entries[i];
      const mode = e.extension?.find((x) => x.url === WRITE_MODE)?.valueCode;
      const { extension: _ext, ...entry } = e;
      void _ext;
      if (!mode || e.request?.method !== 'PUT' || !e.request.url.includes('?') || !e.resource) {
        // the message's own Provenance: its absence was checked above, in this transaction
        if (e.resource?.resourceType === 'Provenance' && e.resource.meta?.source === source && entry.request) {
          const { ifNoneExist: _checked, ...request } = entry.request;
          void _checked;
          entries.push({ ...entry, request });
        } else entries.push(entry);
        continue;
      }
      const type = e.resource.resourceType;
      const found = await resolve(req, ctx, type, e.request.url, mode === 'merge', absent);
      const removed = (e.extension ?? []).filter((x) => x.url === REMOVE).map((x) => x.valueString!);
      let incoming = e.resource as Resource & Patient;
      if (found.replaced.length && incoming.identifier) {
        const old = new Set(found.replaced.map(KEYED.identifier));
        incoming = { ...incoming, identifier: incoming.identifier.filter((x) => !old.has(KEYED.identifier(x))) };
      }
      // a record not stored yet takes the id its preparation guessed; a merge is prepared here
      const id = found.id ?? ahead?.entries[i]?.id ?? randomUUID();
      if (found.stored) kept[entries.length] = undefined;
      const other = claimed.get(`${type}/${id}`);
      if (other !== undefined) {
        throw new FhirError(422, { code: 'business-rule', diagnostics: `Bundle.entry[${other}] and Bundle.entry[${i}] identify the same ${type}`, expression: [`Bundle.entry[${i}]`] });
      }
      claimed.set(`${type}/${id}`, i);
      const resource = found.stored ? mergeResource(found.stored, incoming, removed) : { ...incoming };
      entries.push({ ...entry, resource: { ...resource, id } as Resource, request: { method: 'PUT', url: `${type}/${id}` } });
    }
    const tx: Bundle = { resourceType: 'Bundle', type: 'transaction', entry: entries };
    // later messages of the batch must not take what this one writes for absent
    absent?.wrote(entries.map((e) => e.resource));
    const response = await processBundle({ ...req, method: 'POST', resourceType: undefined, id: undefined, body: tx, query: Object.create(null) }, ctx, ahead && { entries: kept, targets: ahead.targets });
    return { response };
  });
}
