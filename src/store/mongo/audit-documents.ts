// The audit trail's compact documents on MongoDB (#19): an AuditEvent this server wrote is kept in
// `resources` as the fields it shows (`ae`: codes, time, client, purposes, address, the resource,
// patient and query it names — the same fields as an SQLite ledger row, src/store/sqlite/
// audit-ledger.ts) and its search index entries, with no JSON body and no `history` version (an
// audit event has one version, never replaced). Readers get the event rendered from the fields
// (src/audit/render.ts renderUnlinked), character for character what was written: the chain in
// `audit_ledger` (src/audit/ledger/mongo.ts) hashes the stored JSON, and `verify` hashes the
// rendered event, so every field that is shown, meta included, is covered.
//
// A compact event is immutable in the engine itself, whatever the API's audit setting: an update,
// a deletion or a `$meta` rewrite of one is refused (405). An AuditEvent of another shape (one a
// client stored through the API with auditing off) keeps its JSON and history as any resource.
import type { AuditEvent } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { fieldsOfEvent, renderUnlinked, type AuditFields } from '../../audit/render.ts';
import type { VersionWrite } from '../types.ts';

export const AUDIT_EVENT = 'AuditEvent';

/** An event's fields without its id (the document's own `id`). */
export type CompactAudit = Omit<AuditFields, 'id'>;

/** The compact fields of a version write, when it is the first version of an AuditEvent whose
 * JSON they render exactly; else undefined (stored as any resource). */
export function compactAudit(v: VersionWrite): CompactAudit | undefined {
  if (v.resourceType !== AUDIT_EVENT || v.versionId !== 1 || v.json === null || v.method !== 'POST') return undefined;
  let fields: AuditFields;
  try {
    fields = fieldsOfEvent(JSON.parse(v.json) as AuditEvent);
  } catch {
    return undefined;
  }
  if (fields.id !== v.id || renderUnlinked(fields, v.lastUpdated) !== v.json) return undefined;
  const { id: _id, ...rest } = fields;
  void _id;
  return rest;
}

/** The JSON of a `resources` document: stored, or rendered from its compact audit fields. */
export function documentJson(d: { id: string; lu: string; json?: string | null; ae?: CompactAudit }): string | null {
  if (d.json != null) return d.json;
  return d.ae ? renderUnlinked({ id: d.id, ...d.ae }, d.lu) : null;
}

export const immutableAuditEvent = (key: string) =>
  new FhirError(405, { code: 'not-supported', diagnostics: `${key.slice(0, 100)} is an audit trail event: written by the server only and never changed` });
