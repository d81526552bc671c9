// Patient $everything: https://hl7.org/fhir/R4/patient-operation-everything.html
// The patient and every resource in its compartment (R4 CompartmentDefinition "patient"), as a
// searchset Bundle with paging. Types are read one after another, each with its own indexed
// compartment search, so `start`/`end` can use each type's own clinical date parameter and
// resources of types without one are kept, as the spec asks. The paging cursor names the type
// and the position within it.
import type { BundleLink } from 'fhir/r4.js';
import { badRequest, notFound } from '../fhir/errors.ts';
import { bundleText, type EntryText } from '../fhir/bundle.ts';
import { parseDateRange } from '../fhir/datetime.ts';
import type { Condition, SearchQuery } from '../search/ir.ts';
import { compartmentCondition } from '../rest/search.ts';
import type { Context, FhirRequest, Handler } from '../rest/types.ts';
import { allows, authorize } from '../auth/authorize.ts';
import { defineOperation, parametersOf } from './types.ts';
import { overClientView } from '../auth/sensitive-search.ts';

interface Cursor {
  /** index into the type list; -1 = the patient itself */
  t: number;
  after?: (string | number | null)[];
}

function encode(c: Cursor): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decode(token: string, max: number): Cursor {
  try {
    const c = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
    if (Number.isInteger(c?.t) && c.t >= -1 && c.t <= max && (c.after === undefined || Array.isArray(c.after))) return c;
  } catch {
    // fall through
  }
  throw badRequest('_page is not a cursor this server issued', 'value');
}

function param(req: FhirRequest, name: string): string | undefined {
  const body = req.body as { resourceType?: string; parameter?: { name: string; valueDate?: string; valueDateTime?: string; valueInstant?: string; valueInteger?: number; valueString?: string; valueCode?: string }[] } | undefined;
  const p = body?.resourceType === 'Parameters' ? body.parameter?.find((x) => x.name === name) : undefined;
  const fromBody = p ? (p.valueDate ?? p.valueDateTime ?? p.valueInstant ?? p.valueString ?? p.valueCode ?? (p.valueInteger !== undefined ? String(p.valueInteger) : undefined)) : undefined;
  return fromBody ?? req.query[name]?.[0];
}

/** The patient and, with followLinks, every record linked to it (replaces / replaced-by /
 * seealso, transitively): the same person registered under earlier identifiers. */
async function linkedPatients(ctx: Context, patientId: string, follow: boolean): Promise<string[]> {
  const ids = [patientId];
  if (!follow) return ids;
  for (let i = 0; i < ids.length && ids.length < 50; i++) {
    const v = await ctx.repo.store.current('Patient', ids[i]);
    if (!v || v.deleted) continue;
    for (const l of (JSON.parse(v.json!) as { link?: { other?: { reference?: string } }[] }).link ?? []) {
      const m = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(l.other?.reference ?? '');
      if (m && !ids.includes(m[1])) ids.push(m[1]);
    }
  }
  return ids;
}

async function everythingFor(req: FhirRequest, ctx: Context, patientId: string, path: string) {
  authorize(req.auth, 'Patient', 'r');
  await ctx.repo.read('Patient', patientId); // 404 / 410 when absent
  const followLinks = param(req, 'followLinks') === 'true';
  const patients = await linkedPatients(ctx, patientId, followLinks);
  const compartment = ctx.types.defs.compartments.find((c) => c.code === 'Patient')!;
  const typeFilter = param(req, '_type')?.split(',').map((s) => s.trim()).filter(Boolean);
  for (const t of typeFilter ?? []) if (!ctx.types.has(t)) throw badRequest(`_type: '${t.slice(0, 64)}' is not a resource type`, 'value');
  const types = Object.keys(compartment.resources)
    .filter((t) => t !== 'Patient' && ctx.types.has(t))
    .filter((t) => !typeFilter || typeFilter.includes(t))
    .filter((t) => allows(req.auth, t, 's') && allows(req.auth, t, 'r'))
    .sort();
  const rawCount = param(req, '_count');
  if (rawCount !== undefined && !/^\d{1,9}$/.test(rawCount)) throw badRequest('_count must be a whole number', 'value');
  const count = Math.max(1, Math.min(Number(rawCount ?? ctx.config.defaultCount), ctx.config.maxCount));
  const range = (name: string) => {
    const v = param(req, name);
    if (v === undefined) return undefined;
    const r = parseDateRange(v);
    if (!r) throw badRequest(`${name} must be a date`, 'value');
    return r;
  };
  const start = range('start');
  const end = range('end');
  const since = range('_since');
  const token = req.query._page?.[0];
  let cursor: Cursor = token ? decode(token, types.length) : { t: -1 };
  const entries: EntryText[] = [];
  const fullUrl = (type: string, id: string) => `${req.baseUrl}/${type}/${id}`;
  if (cursor.t === -1) {
    if (!typeFilter || typeFilter.includes('Patient')) {
      for (const id of patients) {
        const p = await ctx.repo.store.current('Patient', id);
        if (p && !p.deleted) entries.push({ fullUrl: fullUrl('Patient', id), resourceJson: p.json, extra: { search: { mode: 'match' } } });
      }
    }
    cursor = { t: 0 };
  }
  let next: Cursor | undefined;
  while (cursor.t < types.length) {
    const type = types[cursor.t];
    const compartments = patients.map((id) => compartmentCondition(ctx, 'Patient', id, type));
    const conditions: Condition[] = [compartments.length === 1 ? compartments[0] : { kind: 'any', conditions: compartments }];
    const date = ctx.search.get(type, 'date');
    if ((start || end) && date?.type === 'date') {
      // resources without a clinical date are kept, as the spec asks
      const missing: Condition = { kind: 'missing', params: [date.key], table: 'date', missing: true };
      if (start) conditions.push({ kind: 'any', conditions: [missing, { kind: 'date', params: [date.key], values: [{ prefix: 'ge', low: start.start, high: start.end }] }] });
      if (end) conditions.push({ kind: 'any', conditions: [missing, { kind: 'date', params: [date.key], values: [{ prefix: 'le', low: end.start, high: end.end }] }] });
    }
    if (since) conditions.push({ kind: 'lastUpdated', values: [{ prefix: 'ge', low: since.start, high: since.end }] });
    const q: SearchQuery = { types: [type], conditions, sort: [], count: count - entries.length, total: 'none', include: [], revinclude: [] };
    if (q.count <= 0) {
      next = cursor;
      break;
    }
    const result = await ctx.repo.search(overClientView(req, q), cursor.after ? { after: cursor.after } : undefined);
    for (const m of result.matches) entries.push({ fullUrl: fullUrl(m.resourceType, m.id), resourceJson: m.json, extra: { search: { mode: 'match' } } });
    if (result.hasMore) {
      next = { t: cursor.t, after: result.matches[result.matches.length - 1].position };
      break;
    }
    cursor = { t: cursor.t + 1 };
    if (entries.length >= count && cursor.t < types.length) {
      next = cursor;
      break;
    }
  }
  const keep = new URLSearchParams();
  for (const name of ['start', 'end', '_since', '_type', '_count', 'followLinks']) {
    const v = param(req, name);
    if (v !== undefined) keep.set(name, v);
  }
  const link = (relation: string, c?: Cursor): BundleLink => {
    const p = new URLSearchParams(keep);
    if (c) p.set('_page', encode(c));
    return { relation, url: `${req.baseUrl}/${path}?${p.toString()}`.replace(/\?$/, '') };
  };
  const links = [link('self', token ? decode(token, types.length) : undefined), link('first')];
  if (next) links.push(link('next', next));
  return { status: 200, body: bundleText('searchset', entries, { link: links, ...(!token && !next ? { total: entries.length } : {}) }) };
}

export const everything: Handler = async (req, ctx) => {
  if (req.id) return everythingFor(req, ctx, req.id, `Patient/${req.id}/$everything`);
  // type level: the patients are the ones the caller names with a patient parameter
  const id = req.query.patient?.[0] ?? param(req, 'patient');
  if (!id) throw badRequest('Patient/$everything at type level needs a patient parameter (this server does not return every patient at once)', 'required');
  const pid = id.replace(/^Patient\//, '');
  if (!/^[A-Za-z0-9\-.]{1,64}$/.test(pid)) throw notFound(`Patient '${id.slice(0, 64)}' is not known`);
  return everythingFor(req, ctx, pid, `Patient/$everything`);
};

export const everythingOperation = defineOperation({
  code: 'everything',
  id: 'Patient-everything',
  title: 'Fetch Patient Record',
  description: 'The patient and every resource in its compartment the client may read, as a paged searchset Bundle; followLinks=true adds the records linked to it.',
  base: 'http://hl7.org/fhir/OperationDefinition/Patient-everything',
  levels: ['type', 'instance'],
  resourceTypes: ['Patient'],
  get: true,
  access: ['r'],
  parameters: [
    ...parametersOf('in', 'start:date end:date'),
    { name: '_since', use: 'in', min: 0, max: '1', type: 'instant' },
    { name: '_type', use: 'in', min: 0, max: '*', type: 'code' },
    { name: '_count', use: 'in', min: 0, max: '1', type: 'integer' },
    ...parametersOf('in', 'patient:string followLinks:boolean', { patient: 'At type level: the patient (id or Patient/[id])', followLinks: 'Also the records linked by Patient.link (replaces, replaced-by, seealso)' }),
    { name: '_page', use: 'in', min: 0, max: '1', type: 'string', documentation: 'The paging cursor of a next link' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: everything,
});
