// The search index of the AuditEvents this server writes itself (src/audit/audit.ts): one row
// per event in audit_index, where the generic layout spends ~12 rows in the sp_* tables and ~33
// B-tree entries between them. Storing an event is the audit worker's whole job, once per read,
// and those rows were its largest cost (~25 of ~60 µs an event).
//
// Searches do not change. Each arm below says which rows of an sp_* table an audit_index row
// stands for — the same rows FHIRPath extraction gives these events (checked on every event
// shape by test/store/sqlite/audit-index.test.ts) — and the SQLite compiler
// (src/search/sqlite.ts) reads an AuditEvent parameter from its sp_* table and from its arms,
// joined by UNION ALL. So every modifier, chain, _has, _include, _sort and compartment answers as
// before, for events indexed the generic way too (stored before this table existed, with
// auditing off, or reindexed).
//
// Created at start-up (IF NOT EXISTS): existing databases gain the table and keep their rows.
import type Database from 'better-sqlite3';
import { ANONYMOUS_CLIENT, CLIENT_SYSTEM, LOGIN, outcome, REST, RESTFUL_INTERACTION, USER_AUTHENTICATION, type QueuedAudit } from '../../audit/audit.ts';
import { foldString } from '../../search/normalize.ts';
import { localTarget } from '../../fhir/reference.ts';

// client: agent.who.identifier.value (system CLIENT_SYSTEM) and agent.altId, which auditEvent()
// sets alike. entities: which of auditEvent()'s three entity kinds the event has (the flags
// below). what_* / patient_*: an entity's reference, split as the extractor splits it.
// The indexes serve the trail's usual questions — whose record, which client, when.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_index (
  rid INTEGER PRIMARY KEY,
  low INTEGER NOT NULL, high INTEGER NOT NULL,
  action TEXT, outcome TEXT, subtype TEXT,
  client TEXT NOT NULL, address TEXT, address_norm TEXT,
  entities INTEGER NOT NULL,
  what_type TEXT, what_id TEXT, what_url TEXT, what_version TEXT,
  patient_type TEXT, patient_id TEXT, patient_url TEXT, patient_version TEXT
);
CREATE INDEX IF NOT EXISTS audit_index_client ON audit_index (client);
CREATE INDEX IF NOT EXISTS audit_index_low ON audit_index (low);
CREATE INDEX IF NOT EXISTS audit_index_high ON audit_index (high);
CREATE INDEX IF NOT EXISTS audit_index_what ON audit_index (what_id, what_type) WHERE what_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_index_patient ON audit_index (patient_id, patient_type) WHERE patient_id IS NOT NULL;
`;

const WHAT = 1; // the resource acted on (entity type 2 System Object)
const PATIENT = 2; // the patient, when not that resource (type 1 Person, role 1 Patient)
const QUERY = 4; // a search's query (type 2 System Object, role 24 Query)

/** The rows of one search parameter that an audit_index row stands for. */
export interface AuditArm {
  key: string;
  table: 'string' | 'token' | 'date' | 'reference';
  /** columns of the sp_ table as SQL on audit_index (`$.` its alias); the others are NULL */
  cols: Record<string, string>;
  /** which events have the row (SQL on `$.`) */
  where?: string;
}

/** SQL string literal of a constant of this file (never request data) */
const lit = (s: string) => `'${s.replaceAll("'", "''")}'`;

function token(key: string, system: string | null, code: string, display: string | null, where?: string): AuditArm {
  const cols: Record<string, string> = { code };
  if (system) cols.system = lit(system);
  if (display) cols.text = lit(foldString(display));
  return { key: `AuditEvent.${key}`, table: 'token', cols, ...(where ? { where } : {}) };
}

function entity(key: string, e: 'what' | 'patient', flag: number, patientOnly: boolean): AuditArm {
  const cols = { target_type: `$.${e}_type`, target_id: `$.${e}_id`, url: `$.${e}_url`, version: `$.${e}_version` };
  // patient = entity.what.where(resolve() is Patient): a reference the extractor cannot type counts
  const where = `$.entities & ${flag}${patientOnly ? ` AND ($.${e}_type = 'Patient' OR $.${e}_type IS NULL)` : ''}`;
  return { key: `AuditEvent.${key}`, table: 'reference', cols, where };
}

/** An authentication event (auditEvent()'s kind login) is told apart by its subtype code, DICOM's
 * Login, which no restful-interaction code equals: `login` when it is one, `rest` when not. */
const byKind = (login: string, rest: string) => `CASE WHEN $.subtype = ${lit(LOGIN.code)} THEN ${lit(login)} ELSE ${lit(rest)} END`;

const agent = (key: string): AuditArm => ({ key: `AuditEvent.${key}`, table: 'reference', cols: { identifier_system: lit(CLIENT_SYSTEM), identifier_value: '$.client' } });

export const AUDIT_ARMS: readonly AuditArm[] = [
  token('action', null, '$.action', null, '$.action IS NOT NULL'),
  { key: 'AuditEvent.address', table: 'string', cols: { norm: '$.address_norm', exact: '$.address' }, where: '$.address IS NOT NULL' },
  agent('agent'),
  token('altid', null, '$.client', null),
  { key: 'AuditEvent.date', table: 'date', cols: { low: '$.low', high: '$.high' } },
  entity('entity', 'what', WHAT, false),
  entity('entity', 'patient', PATIENT, false),
  token('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', "'1'", 'Patient', `$.entities & ${PATIENT}`),
  token('entity-role', 'http://terminology.hl7.org/CodeSystem/object-role', "'24'", 'Query', `$.entities & ${QUERY}`),
  token('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', "'2'", 'System Object', `$.entities & ${WHAT | QUERY}`),
  token('entity-type', 'http://terminology.hl7.org/CodeSystem/audit-entity-type', "'1'", 'Person', `$.entities & ${PATIENT}`),
  token('outcome', null, '$.outcome', null, '$.outcome IS NOT NULL'),
  // `patient` is agent.who.where(resolve() is Patient) | entity.what.where(…): an identifier
  // cannot be resolved, so the extractor keeps the agent under it too
  agent('patient'),
  entity('patient', 'what', WHAT, true),
  entity('patient', 'patient', PATIENT, true),
  { key: 'AuditEvent.subtype', table: 'token', cols: { system: byKind(LOGIN.system, RESTFUL_INTERACTION), code: '$.subtype' }, where: '$.subtype IS NOT NULL' },
  {
    key: 'AuditEvent.type',
    table: 'token',
    cols: { system: byKind(USER_AUTHENTICATION.system, REST.system), code: byKind(USER_AUTHENTICATION.code, REST.code), text: byKind(foldString(USER_AUTHENTICATION.display), foldString(REST.display)) },
  },
];

/** Creates the table on the writer connection at start-up. */
export function ensureAuditIndex(db: Database.Database): void {
  db.exec(SCHEMA);
}

/** the extractor's split of the references auditEvent() writes (all relative) */
function split(ref: string): (string | null)[] {
  const t = localTarget(ref, []);
  return t ? [t.type, t.id, null, t.version ?? null] : [null, null, ref, null];
}

const NONE: (string | null)[] = [null, null, null, null];

/** The audit_index row of an event, from its fields (src/audit/audit.ts AuditInput): what the
 * arms above give for the event auditEvent() makes of them (test/store/sqlite/audit-index.test.ts
 * compares them with FHIRPath extraction of the stored events). */
export function auditIndexRow(rid: number, e: QueuedAudit): (string | number | null)[] {
  // `recorded` is an instant to the millisecond: the range [at, at + 1)
  let entities = 0;
  let what = NONE;
  let patient = NONE;
  if (e.what) {
    entities |= WHAT;
    what = split(e.what);
  }
  if (e.patient && e.patient !== e.what) {
    entities |= PATIENT;
    patient = split(e.patient);
  }
  if (e.query) entities |= QUERY;
  const address = e.address || null;
  return [
    rid, e.at, e.at + 1, e.action, outcome(e.status), e.kind === 'login' ? LOGIN.code : e.interaction,
    e.clientId ?? ANONYMOUS_CLIENT, address, address === null ? null : foldString(address), entities, ...what, ...patient,
  ];
}

/** Writes audit_index rows inside the connection's open transaction. */
export class AuditIndexWriter {
  private readonly insertRow;

  constructor(db: Database.Database) {
    this.insertRow = db.prepare(`INSERT INTO audit_index VALUES (${Array.from({ length: 18 }, () => '?').join(', ')})`);
  }

  insert(rid: number, event: QueuedAudit): void {
    this.insertRow.run(auditIndexRow(rid, event));
  }
}
