// Patient $summary: https://build.fhir.org/ig/HL7/fhir-ips/OperationDefinition-summary.html
// (hl7.fhir.uv.ips 2.0.0). Builds an International Patient Summary document Bundle from the
// patient's compartment: a Composition (first entry) with the IPS sections — problems,
// allergies and medications always present (stated empty with emptyReason when nothing is
// known), immunizations, results, procedures, vital signs and pregnancy history when there is
// data — plus a migration-context section, narrative for every section, and every referenced
// resource inside the Bundle. All fullUrls are urn:uuid and references are rewritten to them,
// so the document stands on its own when it reaches another country's system.
import { randomUUID } from 'node:crypto';
import type { Bundle, Composition, CompositionSection, Patient, Reference, Resource } from 'fhir/r4.js';
import { authorize, allows } from '../auth/authorize.ts';
import { viewFor, type View } from '../auth/sensitive.ts';
import { localKey, resourceAddress } from '../fhir/reference.ts';
import { defineOperation } from './types.ts';
import { compartmentCondition } from '../rest/search.ts';
import type { Context, FhirRequest, Handler } from '../rest/types.ts';
import { describe, emptyDiv, esc, migrationLead, sectionDiv } from '../ips/narrative.ts';
import { asIps } from '../ips/profiles.ts';
import { MIGRATION_SECTION, SECTIONS, type SectionSpec } from '../ips/sections.ts';
import { overClientView } from '../auth/sensitive-search.ts';

const EMPTY_REASON = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/list-empty-reason', code: 'unavailable', display: 'Unavailable' }] };
const PER_TYPE = 1000;
const REFERABLE = new Set(['Medication', 'Practitioner', 'PractitionerRole', 'Organization', 'Location', 'Device', 'Specimen', 'Encounter', 'Questionnaire', 'Substance']);

/** The patient's resources of one type, as the client may see them; none of a type it may not
 * both search and read (as $everything). */
async function compartment(req: FhirRequest, ctx: Context, patientId: string, type: string, view: View): Promise<Resource[]> {
  if (!allows(req.auth, type, 's') || !allows(req.auth, type, 'r')) return [];
  const { matches } = await ctx.repo.search(overClientView(req, {
    types: [type],
    conditions: [compartmentCondition(ctx, 'Patient', patientId, type)],
    sort: [{ params: ['_lastUpdated'], descending: true }],
    count: PER_TYPE,
    total: 'none',
    include: [],
    revinclude: [],
  }));
  return matches.map((m) => view(JSON.parse(m.json) as Resource));
}

/** Every local reference inside a resource (as `Type/id`, localKey), contained resources included. */
function references(value: unknown, baseUrl: string, out: string[] = [], depth = 0): string[] {
  if (depth > 64 || !value || typeof value !== 'object') return out;
  if (Array.isArray(value)) value.forEach((v) => references(v, baseUrl, out, depth + 1));
  else {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') {
        const key = localKey(v, baseUrl);
        if (key) out.push(key);
      } else references(v, baseUrl, out, depth + 1);
    }
  }
  return out;
}

/** Rewrites references to the document's urn:uuid fullUrls; ones that cannot be resolved in
 * the document keep their display only, so nothing in the document points outside it.
 * References to contained resources (#id) stay as they are. */
function rewrite(value: unknown, urls: Map<string, string>, baseUrl: string, depth = 0): void {
  if (depth > 64 || !value || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    value.forEach((v) => rewrite(v, urls, baseUrl, depth + 1));
    return;
  }
  const obj = value as Record<string, unknown>;
  if (typeof obj.reference === 'string' && !obj.reference.startsWith('#')) {
    const key = localKey(obj.reference, baseUrl);
    const target = key && urls.get(key);
    if (target) obj.reference = target;
    else {
      delete obj.reference;
      obj.display ??= 'not included in this summary';
    }
  }
  for (const v of Object.values(obj)) if (typeof v === 'object') rewrite(v, urls, baseUrl, depth + 1);
}

/** Whether a compartment resource is about the patient (its subject or patient), not one the
 * patient merely took part in (a Condition they asserted about a relative, an Observation
 * they performed). */
function about(r: Resource, patientId: string, baseUrl: string): boolean {
  const o = r as { subject?: Reference; patient?: Reference };
  const ref = (o.subject ?? o.patient)?.reference;
  return ref !== undefined && localKey(ref, baseUrl) === `Patient/${patientId}`;
}

/** Every narrative, display and entry of the document is built from the client's view of the
 * stored resources (viewFor): what it may not see is neither in the entries nor in any text. */
export async function buildSummary(req: FhirRequest, ctx: Context, patientId: string): Promise<Bundle> {
  authorize(req.auth, 'Patient', 'r');
  const view = viewFor(req.auth);
  const stored = await ctx.repo.read('Patient', patientId);
  const patient = view(JSON.parse(stored.json!) as Patient);
  const byType = new Map<string, Resource[]>();
  const load = async (type: string) => {
    if (!byType.has(type)) byType.set(type, await compartment(req, ctx, patientId, type, view));
    return byType.get(type)!;
  };
  const included = new Map<string, Resource>([[`Patient/${patientId}`, patient]]);
  const sectionsOut: { spec: SectionSpec; entries: Resource[] }[] = [];
  for (const spec of [...SECTIONS, MIGRATION_SECTION]) {
    const entries: Resource[] = [];
    for (const src of spec.sources) for (const r of await load(src.type)) if (about(r, patientId, req.baseUrl) && (!src.keep || src.keep(r))) entries.push(r);
    for (const r of entries) included.set(`${r.resourceType}/${r.id}`, r);
    sectionsOut.push({ spec, entries });
  }
  // the resources the entries refer to, one level: the patient's own (a report's results, the
  // expected delivery date of a pregnancy status) and medications, practitioners, organizations…
  const loaded = new Map<string, Resource>();
  for (const list of byType.values()) for (const r of list) loaded.set(`${r.resourceType}/${r.id}`, r);
  for (const r of [...included.values()]) {
    for (const ref of references(r, req.baseUrl)) {
      if (included.has(ref)) continue;
      const own = loaded.get(ref);
      if (own) {
        if ((own as { status?: string }).status !== 'entered-in-error' && about(own, patientId, req.baseUrl)) included.set(ref, own);
        continue;
      }
      const { type, id } = resourceAddress(ref)!;
      if (!REFERABLE.has(type) || !allows(req.auth, type, 'r')) continue;
      const v = await ctx.repo.store.current(type, id);
      if (v && !v.deleted) included.set(ref, view(JSON.parse(v.json!) as Resource));
    }
  }
  const urls = new Map<string, string>();
  for (const key of included.keys()) urls.set(key, `urn:uuid:${randomUUID()}`);
  const now = new Date().toISOString();
  const device: Resource = { resourceType: 'Device', id: randomUUID(), deviceName: [{ name: 'migfhir', type: 'manufacturer-name' }] } as Resource;
  const deviceUrl = `urn:uuid:${randomUUID()}`;
  const sections: CompositionSection[] = sectionsOut
    .filter((s) => s.spec.required || s.entries.length || s.spec === MIGRATION_SECTION)
    .map(({ spec, entries }) => {
      const base = { title: spec.title, code: { coding: [spec.code], text: spec.title } };
      if (spec === MIGRATION_SECTION) {
        const rows = entries.map(describe);
        return {
          ...base,
          text: { status: 'generated', div: sectionDiv(spec.title, ['Referral or questionnaire', 'Status / date', 'Performer / state'], rows, migrationLead(patient)) },
          ...(entries.length ? { entry: entries.map((r) => ({ reference: urls.get(`${r.resourceType}/${r.id}`)! })) } : {}),
        };
      }
      if (!entries.length) {
        return { ...base, text: { status: 'generated', div: emptyDiv(spec.title, 'No information is available.') }, emptyReason: EMPTY_REASON };
      }
      return {
        ...base,
        text: { status: 'generated', div: sectionDiv(spec.title, ['Item', 'Date / status', 'Details'], entries.map(describe)) },
        entry: entries.map((r) => ({ reference: urls.get(`${r.resourceType}/${r.id}`)! })),
      };
    }) as CompositionSection[];
  const name = patient.name?.[0];
  const composition: Composition = {
    resourceType: 'Composition',
    id: randomUUID(),
    status: 'final',
    type: { coding: [{ system: 'http://loinc.org', code: '60591-5', display: 'Patient summary Document' }] },
    subject: { reference: urls.get(`Patient/${patientId}`)! },
    date: now,
    author: [{ reference: deviceUrl }],
    title: `International Patient Summary${name ? ` — ${[name.given?.join(' '), name.family].filter(Boolean).join(' ')}` : ''}`,
    text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${esc('International Patient Summary generated by migfhir')}</p></div>` },
    section: sections,
  };
  asIps(composition);
  const entries = [...included.entries()].map(([key, r]) => {
    const copy = structuredClone(r);
    rewrite(copy, urls, req.baseUrl);
    asIps(copy);
    return { fullUrl: urls.get(key)!, resource: copy };
  });
  return {
    resourceType: 'Bundle',
    identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${randomUUID()}` },
    type: 'document',
    timestamp: now,
    entry: [{ fullUrl: `urn:uuid:${composition.id}`, resource: composition }, ...entries, { fullUrl: deviceUrl, resource: device }],
  };
}

export const summary: Handler = async (req, ctx) => {
  const id = req.id ?? req.query.patient?.[0]?.replace(/^Patient\//, '');
  if (!id) return { status: 400, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required', diagnostics: 'Patient/$summary needs a patient' }] } };
  return { status: 200, body: (await buildSummary(req, ctx, id)) as Resource };
};

export const summaryOperation = defineOperation({
  code: 'summary',
  id: 'Patient-summary',
  title: 'International Patient Summary',
  description: 'An IPS document Bundle built from the patient\'s compartment, with a migration-context section.',
  base: 'http://hl7.org/fhir/uv/ips/OperationDefinition/summary',
  levels: ['type', 'instance'],
  resourceTypes: ['Patient'],
  get: true,
  access: ['r'],
  parameters: [
    { name: 'patient', use: 'in', min: 0, max: '1', type: 'string', documentation: 'At type level: the patient (id or Patient/[id])' },
    { name: 'return', use: 'out', min: 1, max: '1', type: 'Bundle' },
  ],
  handler: summary,
});
