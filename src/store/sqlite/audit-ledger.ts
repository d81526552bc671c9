// The audit trail as a ledger (#19): one compact row per AuditEvent in audit_ledger, instead of a
// ~1.3 KB JSON version row, a resource row and an index row. The row holds the fields an event
// shows (src/audit/render.ts AuditFields) in short columns, its place in the chain (`seq`, the
// rowid: the event's number from the genesis, events cut by retention included) and its chain
// link (previous hash and hash, 32-byte BLOBs). Readers get the AuditEvent rendered from the row
// (renderRow): the same characters the generic path stored. Rows appended by this version are
// hashed in the compact encoding of their fields (render.ts encodedFields; flags ENCODED_FLAG),
// of which the rendering is a pure function, so the hash covers every field that is shown, meta
// included; rows stored before it (and migrated ones) keep their hash over the rendered JSON, and
// `migfhir audit verify` checks each in its own form.
//
// Multi-valued fields: an event of this server names at most one resource (`what`), one patient
// and one query (auditEvent()), so they are columns, not a side table; a reference is kept split
// as the searches read it (type and id, or the whole text when it is not `Type/id`). Purposes of
// use (rarely more than one, never searched) are one text column joined by newlines.
//
// Indexes: the id (reads, and the retry of a batch after a worker failure skips stored events),
// the patient and the resource acted on (whose record), the client, the time. Nothing else: each
// index is a B-tree insert per event on the audit worker. (The partial index of `raw` rows holds
// only migrated events of another shape, none of the worker's.)
import type Database from 'better-sqlite3';
import type { AuditEvent } from 'fhir/r4.js';
import { CHAIN_URL, GENESIS, LOGIN, type QueuedAudit } from '../../audit/audit.ts';
import { ENCODING, encodedHash, fieldsOf, linkedJson, renderUnlinked, type AuditFields } from '../../audit/render.ts';
import { CHECKPOINT_EVENTS, CHECKPOINT_MS, type CheckpointSigner } from '../../audit/checkpoint.ts';
import { localTarget } from '../../fhir/reference.ts';
import { retentionBase } from './audit-retention.ts';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS audit_ledger (
  seq INTEGER PRIMARY KEY,
  id TEXT NOT NULL,
  at INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  flags INTEGER NOT NULL,
  sub TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  outcome_desc TEXT,
  client TEXT NOT NULL,
  purpose TEXT,
  address TEXT,
  what_type TEXT, what_id TEXT, what_url TEXT,
  patient_type TEXT, patient_id TEXT, patient_url TEXT,
  query TEXT,
  period_start INTEGER, period_end INTEGER,
  prev BLOB NOT NULL,
  hash BLOB NOT NULL,
  raw TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_ledger_id ON audit_ledger (id);
CREATE INDEX IF NOT EXISTS audit_ledger_what ON audit_ledger (what_id, what_type) WHERE what_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_ledger_patient ON audit_ledger (patient_id, patient_type) WHERE patient_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS audit_ledger_client ON audit_ledger (client);
CREATE INDEX IF NOT EXISTS audit_ledger_at ON audit_ledger (at);
CREATE INDEX IF NOT EXISTS audit_ledger_raw ON audit_ledger (seq) WHERE raw IS NOT NULL;
`;

/** flags: an authentication event (DICOM User Authentication / Login) */
export const LOGIN_FLAG = 1;
/** flags: labelled as the sensitive data its query reads */
export const SENSITIVE_FLAG = 2;
/** flags: hashed in the compact encoding (render.ts ENCODING), not over its rendered JSON (events
 * stored before that version, and migrated ones) */
export const ENCODED_FLAG = 4;

/** One row of audit_ledger. `raw`: the stored JSON of an event migrated from the generic rows
 * whose content the columns do not render (an AuditEvent of another shape, stored through the
 * API by an older version with auditing off); its columns then hold what search reads of it. */
export interface LedgerRow {
  seq: number;
  id: string;
  at: number;
  updated: number;
  flags: number;
  sub: string;
  action: string;
  outcome: string;
  outcome_desc: string | null;
  client: string;
  purpose: string | null;
  address: string | null;
  what_type: string | null;
  what_id: string | null;
  what_url: string | null;
  patient_type: string | null;
  patient_id: string | null;
  patient_url: string | null;
  query: string | null;
  period_start: number | null;
  period_end: number | null;
  prev: Buffer;
  hash: Buffer;
  raw: string | null;
}

export const LEDGER_COLUMNS = [
  'seq', 'id', 'at', 'updated', 'flags', 'sub', 'action', 'outcome', 'outcome_desc', 'client', 'purpose', 'address',
  'what_type', 'what_id', 'what_url', 'patient_type', 'patient_id', 'patient_url', 'query', 'period_start', 'period_end', 'prev', 'hash', 'raw',
] as const;

export function ensureAuditLedger(db: Database.Database): void {
  db.exec(SCHEMA);
}

/** A reference split as searches read it: `Type/id` into type and id, anything else whole. */
function split(ref: string | undefined): [string | null, string | null, string | null] {
  if (ref === undefined) return [null, null, null];
  const t = localTarget(ref, []);
  return t && t.version === undefined && `${t.type}/${t.id}` === ref ? [t.type, t.id, null] : [null, null, ref];
}

const joined = (type: string | null, id: string | null, url: string | null) => url ?? (id === null ? undefined : `${type}/${id}`);

/** The row of an event's fields at `seq`, chained; `encoded`: its hash is over the compact encoding. */
export function rowOf(seq: number, f: AuditFields, updated: number, prev: string, hash: string, raw: string | null = null, encoded = false): unknown[] {
  return [
    seq, f.id, f.at, updated, (f.login ? LOGIN_FLAG : 0) | (f.sensitive ? SENSITIVE_FLAG : 0) | (encoded ? ENCODED_FLAG : 0), f.sub, f.action, f.outcome, f.outcomeDesc ?? null,
    f.client, f.purposes?.length ? f.purposes.join('\n') : null, f.address ?? null, ...split(f.what), ...split(f.patient), f.query ?? null,
    f.period?.start ?? null, f.period?.end ?? null, Buffer.from(prev, 'hex'), Buffer.from(hash, 'hex'), raw,
  ];
}

/** The fields a row shows. */
export function fieldsOfRow(r: LedgerRow): AuditFields {
  const what = joined(r.what_type, r.what_id, r.what_url);
  const patient = joined(r.patient_type, r.patient_id, r.patient_url);
  return {
    id: r.id,
    login: (r.flags & LOGIN_FLAG) !== 0,
    sensitive: (r.flags & SENSITIVE_FLAG) !== 0,
    sub: r.sub,
    action: r.action,
    ...(r.period_start !== null && r.period_end !== null ? { period: { start: r.period_start, end: r.period_end } } : {}),
    at: r.at,
    outcome: r.outcome,
    ...(r.outcome_desc !== null ? { outcomeDesc: r.outcome_desc } : {}),
    ...(r.purpose !== null ? { purposes: r.purpose.split('\n') } : {}),
    client: r.client,
    ...(r.address !== null ? { address: r.address } : {}),
    ...(what !== undefined ? { what } : {}),
    ...(patient !== undefined ? { patient } : {}),
    ...(r.query !== null ? { query: r.query } : {}),
  };
}

const iso = (ms: number) => new Date(ms).toISOString();

/** The AuditEvent of a row, as stored JSON with its chain link. */
export function renderRow(r: LedgerRow): string {
  if (r.raw !== null) return r.raw;
  return linkedJson(renderUnlinked(fieldsOfRow(r), iso(r.updated)), r.prev.toString('hex'), r.hash.toString('hex'), r.flags & ENCODED_FLAG ? ENCODING : undefined);
}


/** The chain link of a stored event. */
export function linkOf(e: AuditEvent): { previous: string; hash: string } {
  const ext = (e as AuditEvent & { extension?: { url: string; extension?: { url: string; valueString?: string }[] }[] }).extension?.find((x) => x.url === CHAIN_URL);
  const get = (url: string) => ext?.extension?.find((x) => x.url === url)?.valueString ?? '';
  return { previous: get('previous'), hash: get('hash') };
}

/** Appends to the ledger inside the connection's open transaction (BEGIN IMMEDIATE): the chain's
 * head is read in it, so the two connections that append (the server's writer for write events,
 * the audit worker for reads) form one chain in commit order. Checkpoints are written in the
 * same transactions, so a checkpoint names a head that is committed with it. */
export class SqliteLedgerTrail {
  private readonly db: Database.Database;
  private readonly signer: CheckpointSigner | undefined;
  private readonly stmt;
  /** INSERTs by the columns a row has (bit i: LEDGER_COLUMNS[i] not NULL): an absent column takes
   * its default, NULL, without a parameter bound for it (~0.25 µs each; a read's event leaves 8 of
   * the 24 NULL). A handful of shapes occur. */
  private readonly inserts = new Map<number, Database.Statement>();

  /** without a signer no checkpoint is written (tests of the chain alone) */
  constructor(db: Database.Database, signer?: CheckpointSigner) {
    this.db = db;
    this.signer = signer;
    this.stmt = {
      head: db.prepare<[], { seq: number; hash: Buffer }>('SELECT seq, hash FROM audit_ledger ORDER BY seq DESC LIMIT 1'),
      lastCheckpoint: db.prepare<[], { events: number; at: string }>('SELECT events, at FROM audit_checkpoint ORDER BY n DESC LIMIT 1'),
      checkpoint: db.prepare('INSERT INTO audit_checkpoint (events, head, at, key_id, signature, version_seq) VALUES (?, ?, ?, ?, ?, ?)'),
    };
  }

  /** The chain's end: its newest row, else where retention cut it, else the genesis. */
  end(): { events: number; head: string } {
    const row = this.stmt.head.get();
    if (row) return { events: row.seq, head: row.hash.toString('hex') };
    const base = retentionBase(this.db);
    return base ? { events: base.events, head: base.head } : { events: 0, head: GENESIS };
  }

  /** Chains and stores `events`, each hashed in the compact encoding. `now` is the store clock for
   * meta.lastUpdated (ISO, or epoch ms: the audit worker's clock makes no Date an event). */
  append(events: QueuedAudit[], now: () => string | number): void {
    let { events: seq, head } = this.end();
    for (const input of events) {
      const clock = now();
      const updated = typeof clock === 'number' ? clock : Date.parse(clock);
      const fields = fieldsOf(input);
      const hash = encodedHash(head, fields, updated);
      if (this.insert(rowOf(seq + 1, fields, updated, head, hash, null, true)) === 0) continue;
      seq++;
      head = hash;
    }
    this.checkpoint(false);
  }

  /** Inserts a row (LEDGER_COLUMNS' values); answers 1, or 0 when its id is stored already. */
  private insert(values: unknown[]): number {
    let shape = 0;
    for (let i = 0; i < values.length; i++) if (values[i] !== null) shape |= 1 << i;
    let stmt = this.inserts.get(shape);
    if (!stmt) {
      const columns = LEDGER_COLUMNS.filter((_, i) => shape & (1 << i));
      // OR IGNORE: a batch written again after a worker failure skips the events already stored
      stmt = this.db.prepare(`INSERT OR IGNORE INTO audit_ledger (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
      this.inserts.set(shape, stmt);
    }
    return stmt.run(values.filter((v) => v !== null)).changes;
  }

  /** Signs the chain's head when CHECKPOINT_EVENTS events or CHECKPOINT_MS passed since the last
   * checkpoint (`always`: whenever an event came since; the first is written at once). */
  checkpoint(always: boolean): void {
    if (!this.signer) return;
    const last = this.stmt.lastCheckpoint.get();
    const end = this.end();
    const since = end.events - (last?.events ?? 0);
    if (last) {
      if (since <= 0) return;
      if (!always && since < CHECKPOINT_EVENTS && Date.now() - Date.parse(last.at) < CHECKPOINT_MS) return;
    }
    const c = this.signer.sign({ events: end.events, head: end.head, at: new Date().toISOString() });
    // version_seq: on the ledger, the head's own row (its seq is the number of events)
    this.stmt.checkpoint.run(c.events, c.head, c.at, c.keyId, c.signature, c.events);
  }
}
