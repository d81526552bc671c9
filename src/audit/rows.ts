// The search index rows of an AuditEvent made by src/audit/audit.ts, built directly from its few
// known elements. Evaluating every AuditEvent search parameter through FHIRPath costs ~40 µs an
// event, more than the read it audits; these rows are what that evaluation yields for the
// events this server writes (test/audit/rows.test.ts compares the two on every event shape).
// AuditEvents stored through the API by other means do not exist: the API refuses them.
import type { AuditEvent, Coding } from 'fhir/r4.js';
import { parseDateRange } from '../fhir/datetime.ts';
import { emptyRows, type IndexRows, type ReferenceRow } from '../search/index-rows.ts';
import { foldString } from '../search/normalize.ts';

// the parameters that index something on these events (R4 AuditEvent search parameters)
export const AUDIT_PARAMS = [
  'AuditEvent.action', 'AuditEvent.address', 'AuditEvent.agent', 'AuditEvent.altid', 'AuditEvent.date',
  'AuditEvent.entity', 'AuditEvent.entity-role', 'AuditEvent.entity-type', 'AuditEvent.outcome',
  'AuditEvent.patient', 'AuditEvent.subtype', 'AuditEvent.type',
] as const;

/** the same pattern as the extractor's local references (src/search/extract.ts) */
const LOCAL_REF = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

function reference(param: string, ref: string): ReferenceRow {
  const m = LOCAL_REF.exec(ref);
  return m
    ? { param, targetType: m[1], targetId: m[2], url: null, version: m[3] ?? null, identifierSystem: null, identifierValue: null }
    : { param, targetType: null, targetId: null, url: ref, version: null, identifierSystem: null, identifierValue: null };
}

function coding(rows: IndexRows, param: string, c: Coding | undefined): void {
  if (!c || c.code === undefined) return;
  rows.token.push({ param, system: c.system ?? null, code: c.code, text: c.display === undefined ? null : foldString(c.display) });
}

export function auditIndexRows(event: AuditEvent): IndexRows {
  const rows = emptyRows();
  if (event.action) rows.token.push({ param: 'AuditEvent.action', system: null, code: event.action, text: null });
  for (const a of event.agent) {
    if (a.network?.address) rows.string.push({ param: 'AuditEvent.address', norm: foldString(a.network.address), exact: a.network.address });
    const id = a.who?.identifier;
    if (id) {
      // `patient` is agent.who.where(resolve() is Patient) | …: an identifier cannot be resolved,
      // so the extractor keeps it under both parameters
      for (const param of ['AuditEvent.agent', 'AuditEvent.patient']) {
        rows.reference.push({ param, targetType: null, targetId: null, url: null, version: null, identifierSystem: id.system ?? null, identifierValue: id.value ?? null });
      }
    }
    if (a.altId) rows.token.push({ param: 'AuditEvent.altid', system: null, code: a.altId, text: null });
  }
  const range = parseDateRange(event.recorded);
  if (range) rows.date.push({ param: 'AuditEvent.date', low: range.start, high: range.end });
  for (const e of event.entity ?? []) {
    const ref = e.what?.reference;
    if (ref) {
      const row = reference('AuditEvent.entity', ref);
      rows.reference.push(row);
      if (row.targetType === 'Patient' || row.targetType === null) rows.reference.push({ ...row, param: 'AuditEvent.patient' });
    }
    coding(rows, 'AuditEvent.entity-role', e.role);
    coding(rows, 'AuditEvent.entity-type', e.type);
  }
  if (event.outcome) rows.token.push({ param: 'AuditEvent.outcome', system: null, code: event.outcome, text: null });
  for (const s of event.subtype ?? []) coding(rows, 'AuditEvent.subtype', s);
  coding(rows, 'AuditEvent.type', event.type);
  return dedupe(rows);
}

/** one row per distinct value, as the extractor stores them (the event's two entities can share
 * a type) */
function dedupe(rows: IndexRows): IndexRows {
  const seen = new Set<string>();
  rows.token = rows.token.filter((r) => {
    const key = `${r.param}|${r.system}|${r.code}|${r.text}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  rows.reference = rows.reference.filter((r) => {
    const key = `${r.param}|${r.targetType}|${r.targetId}|${r.url}|${r.version}|${r.identifierSystem}|${r.identifierValue}`;
    return seen.has(key) ? false : (seen.add(key), true);
  });
  return rows;
}
