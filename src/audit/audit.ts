// The audit trail (https://hl7.org/fhir/R4/auditevent.html, DICOM/FHIR audit vocabulary): one
// AuditEvent per interaction — read, search, write, delete, operation, failed authorization —
// naming the client, the resource and patient, the time, the outcome and the purpose of use.
// Events of writes are stored in the write's own transaction; reads are buffered and stored in
// small batches. Every event carries a hash over its content and the previous event's hash, so
// changing or removing a stored event breaks the chain (`migfhir audit verify`).
import * as crypto from 'node:crypto';
import { createHash, randomUUID } from 'node:crypto';
import type { AuditEvent, AuditEventEntity } from 'fhir/r4.js';
import type { Repository } from '../store/repository.ts';
import { LABELS } from '../auth/sensitive.ts';
import { validSignature, type Checkpoint } from './checkpoint.ts';
import type { KeyObject } from 'node:crypto';
import { BatchPool, EventBatch, EventIds } from './event-buffer.ts';

export const CHAIN_URL = 'https://migfhir.org/fhir/StructureDefinition/audit-chain';
export const CLIENT_SYSTEM = 'https://migfhir.org/fhir/sid/client';
/** The agent of an event whose request carried no valid access token (or came with authorization off). */
export const ANONYMOUS_CLIENT = 'anonymous';
/** read events wait at most this long, or for this many, before they go to the sink */
export const FLUSH_MS = 20;
const FLUSH_COUNT = 500;
/** Events queued or handed to the sink but not yet stored, at most (~2 s of the audit worker's
 * work on one core; ~300 bytes each). Past it, requests wait for the trail: see Auditor.later. */
export const MAX_BACKLOG = 50_000;

/** DICOM's audit vocabulary (http://dicom.nema.org/resources/ontology/DCM), for events that are
 * not a FHIR interaction: a client authenticating at the token endpoint, or refused for want of
 * a valid token. */
export const DCM_SYSTEM = 'http://dicom.nema.org/resources/ontology/DCM';
export const USER_AUTHENTICATION = { system: DCM_SYSTEM, code: '110114', display: 'User Authentication' };
export const LOGIN = { system: DCM_SYSTEM, code: '110122' };
export const REST = { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' };
export const RESTFUL_INTERACTION = 'http://hl7.org/fhir/restful-interaction';

export interface AuditInput {
  /** rest (default): a FHIR interaction; login: an authentication (DCM 110114 / 110122) */
  kind?: 'rest' | 'login';
  interaction: string; // restful-interaction code (read, search-type, create, transaction, operation…); for login events 'login'
  action: 'C' | 'R' | 'U' | 'D' | 'E';
  status: number;
  clientId?: string;
  purposeOfUse?: string[];
  address?: string;
  /** Type/id of the resource acted on, when there is one */
  what?: string;
  /** Patient/id the data belongs to, when known */
  patient?: string;
  /** the query string of a search (stored base64, as the spec's entity.query) */
  query?: string;
  /** the query reads sensitive data (migration status …): the event is labelled as the data is,
   * so that its query and outcome text are withheld from clients without the scope */
  sensitive?: boolean;
  description?: string;
  /** when the events an aggregated event stands for happened (epoch ms) */
  period?: { start: number; end: number };
}

export function outcome(status: number): '0' | '4' | '8' {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

/** An event queued off the request path: its id and the time of the interaction are fixed when
 * it is queued, so writing it again (after a worker failure) cannot store it twice. */
export interface QueuedAudit extends AuditInput {
  id: string;
  /** epoch ms of the interaction */
  at: number;
}

export function auditEvent(input: AuditInput, recorded = new Date().toISOString(), id: string = randomUUID()): AuditEvent {
  const entity: AuditEventEntity[] = [];
  if (input.what) {
    entity.push({
      what: { reference: input.what },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
    });
  }
  if (input.patient && input.patient !== input.what) {
    entity.push({
      what: { reference: input.patient },
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '1', display: 'Patient' },
    });
  }
  if (input.query) {
    entity.push({
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '2', display: 'System Object' },
      role: { system: 'http://terminology.hl7.org/CodeSystem/object-role', code: '24', display: 'Query' },
      query: Buffer.from(input.query).toString('base64'),
    });
  }
  return {
    resourceType: 'AuditEvent',
    id,
    ...(input.sensitive ? { meta: { security: LABELS } } : {}),
    ...(input.kind === 'login'
      ? { type: USER_AUTHENTICATION, subtype: [LOGIN] }
      : { type: REST, subtype: [{ system: RESTFUL_INTERACTION, code: input.interaction }] }),
    action: input.action,
    ...(input.period ? { period: { start: new Date(input.period.start).toISOString(), end: new Date(input.period.end).toISOString() } } : {}),
    recorded,
    outcome: outcome(input.status),
    ...(input.status >= 400 ? { outcomeDesc: input.description ?? `HTTP ${input.status}` } : {}),
    ...(input.purposeOfUse?.length
      ? { purposeOfEvent: input.purposeOfUse.map((p) => ({ coding: [{ system: p.split('|')[0], code: p.split('|')[1] }] })) }
      : {}),
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type', code: 'datacollector', display: 'data collector' }] },
        who: { identifier: { system: CLIENT_SYSTEM, value: input.clientId ?? ANONYMOUS_CLIENT } },
        altId: input.clientId ?? ANONYMOUS_CLIENT,
        requestor: true,
        ...(input.address ? { network: { address: input.address, type: '2' } } : {}),
      },
    ],
    source: {
      observer: { display: 'migfhir' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    ...(entity.length ? { entity } : {}),
  };
}

/** sha256 over the previous hash and the event as stored, meta included (versionId,
 * lastUpdated, security labels: everything a reader is shown), without its chain link. */
export function chainHash(previous: string, event: AuditEvent): string {
  return createHash('sha256').update(previous).update(JSON.stringify(unlinked(event))).digest('hex');
}

/** The hash of events written before meta was covered (before the trail's first signed
 * checkpoint): meta left out. verifyChain accepts it only for those events. */
export function legacyChainHash(previous: string, event: AuditEvent): string {
  const { meta: _meta, ...rest } = unlinked(event) as AuditEvent;
  void _meta;
  return createHash('sha256').update(previous).update(JSON.stringify(rest)).digest('hex');
}

function unlinked(event: AuditEvent): AuditEvent {
  const { extension, ...rest } = event as AuditEvent & { extension?: { url: string }[] };
  const own = (extension ?? []).filter((e) => e.url !== CHAIN_URL);
  return (own.length ? { ...rest, extension: own } : rest) as AuditEvent;
}

/** The link appended to an event whose meta is final (the hash covers it). */
export function chained(previous: string, event: AuditEvent): AuditEvent {
  const hash = chainHash(previous, event);
  return { ...event, extension: [...(event.extension ?? []), { url: CHAIN_URL, extension: [{ url: 'previous', valueString: previous }, { url: 'hash', valueString: hash }] }] } as AuditEvent;
}

/** The chain link of an event: the hash before it, its own, and the compact encoding its hash is
 * over (src/audit/render.ts ENCODING; absent: over its JSON without the link). */
export function hashOf(event: AuditEvent): { previous?: string; hash?: string; encoding?: string } {
  const ext = event.extension?.find((e) => e.url === CHAIN_URL);
  const encoding = ext?.extension?.find((e) => e.url === 'encoding')?.valueString;
  return {
    previous: ext?.extension?.find((e) => e.url === 'previous')?.valueString,
    hash: ext?.extension?.find((e) => e.url === 'hash')?.valueString,
    ...(encoding !== undefined ? { encoding } : {}),
  };
}

export const GENESIS = '0'.repeat(64);

/** Where events are stored: src/audit/sinks.ts chooses by storage engine. */
export interface AuditSink {
  /** stores one event inside the caller's open store transaction (write interactions) */
  inTransaction(events: QueuedAudit[]): Promise<void>;
  /** stores a batch off the request path; resolves once it is committed */
  write(batch: QueuedAudit[]): Promise<void>;
  /** stores a batch from its shared buffer, where another thread reads it (the Auditor then
   * never calls `write`); resolves once it is committed, after which the buffer is reused */
  writeShared?(batch: EventBatch): Promise<void>;
  close(): Promise<void>;
}

export class Auditor {
  private readonly sink: AuditSink;
  private readonly onError: (err: Error) => void;
  private readonly maxBacklog: number;
  /** the batch being filled, and the buffers of stored batches for reuse */
  private batch: EventBatch | undefined;
  private readonly pool = new BatchPool();
  private readonly ids = new EventIds();
  private timer: NodeJS.Timeout | undefined;
  /** the newest batch handed to the sink: sinks commit in order, so it settles last */
  private written: Promise<void> = Promise.resolve();
  /** events queued or in the sink's hands, not yet settled */
  private backlog = 0;
  /** requests waiting for the backlog to shrink below maxBacklog, in arrival order */
  private waiting: (() => void)[] = [];
  /** when the oldest event of each batch in the sink's hands, and of the buffer, was queued
   * (batches settle in order): the trail's lag, for /metrics */
  private batchesSince: number[] = [];
  private bufferSince: number | undefined;

  constructor(sink: AuditSink, onError: (err: Error) => void = () => undefined, maxBacklog = MAX_BACKLOG) {
    this.sink = sink;
    this.onError = onError;
    this.maxBacklog = maxBacklog;
  }

  /** events not yet stored (queued here or being written by the sink) */
  get pending(): number {
    return this.backlog;
  }

  /** the backlog past which requests wait for the trail */
  get bound(): number {
    return this.maxBacklog;
  }

  /** milliseconds the oldest event not yet stored has waited (0 when none waits) */
  lagMs(now = Date.now()): number {
    const since = this.batchesSince[0] ?? this.bufferSince;
    return since === undefined ? 0 : Math.max(0, now - since);
  }

  /** Stores an event inside the caller's open transaction (writes). */
  inTransaction(input: AuditInput): Promise<void> {
    return this.sink.inTransaction([queued(input)]);
  }

  /** Stores events inside the caller's open transaction, appended together (one per resource
   * of a Bulk Data import batch: the trail's head is read once for them all). */
  inTransactionAll(inputs: AuditInput[]): Promise<void> {
    return inputs.length ? this.sink.inTransaction(inputs.map(queued)) : Promise.resolve();
  }

  /** Queues an event (reads, searches, failures): handed to the sink within FLUSH_MS. The
   * request does not wait for it while the backlog is below its bound; past the bound the
   * answer is a promise the caller awaits before responding, settled once the trail has stored
   * enough events — back-pressure, so that under sustained overload the server slows to the rate
   * the trail can store and memory (and what a crash could lose) stays bounded. An event is never
   * dropped: it is queued in either case. Its fields are written into the batch's shared buffer
   * at once (src/audit/event-buffer.ts): nothing of it stays on the heap while it waits. */
  later(input: AuditInput): Promise<void> | undefined {
    const at = Date.now();
    const counter = this.ids.next();
    let batch = this.batch;
    if (!batch?.add(input, at, counter)) {
      // full (or none yet): the full one goes to the sink, the event starts a new one
      if (batch) void this.flush();
      batch = this.batch = this.pool.take(EventBatch.bound(input));
      batch.node = this.ids.node;
      batch.add(input, at, counter);
      this.bufferSince = at;
    }
    this.backlog++;
    if (batch.count >= FLUSH_COUNT) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), FLUSH_MS);
    if (this.backlog <= this.maxBacklog) return undefined;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Hands the queued events to the sink and resolves once everything queued so far is stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.batch;
    this.batch = undefined;
    if (batch) {
      this.batchesSince.push(this.bufferSince ?? Date.now());
      this.bufferSince = undefined;
      // the count, not the batch: the sink alone decides how long the events are kept
      const n = batch.count;
      const stored = this.sink.writeShared ? this.sink.writeShared(batch) : this.sink.write(batch.events());
      this.written = stored
        .catch((err: Error) => this.onError(err))
        .finally(() => {
          // stored, or written by the fallback from its bytes: nobody reads the buffer any more
          this.pool.give(batch);
          this.settled(n);
        });
    }
    return this.written;
  }

  /** `n` events left the backlog (stored, or failed and reported): once it is within its bound
   * again the waiting requests go on (their own events are already counted in it). */
  private settled(n: number): void {
    this.backlog -= n;
    this.batchesSince.shift();
    if (this.backlog > this.maxBacklog) return;
    const go = this.waiting;
    this.waiting = [];
    for (const resume of go) resume();
  }

  /** Stores everything queued, then stops the sink (server shutdown). */
  async close(): Promise<void> {
    await this.flush();
    await this.sink.close();
  }
}

/** UUID v7 (time-ordered, Node ≥ 24) where there is one: ids that grow with time are appended
 * at the end of the id indexes instead of touching a random page each (~20% less write work). */
const eventId: () => string = (crypto as { randomUUIDv7?: () => string }).randomUUIDv7 ?? randomUUID;

function queued(input: AuditInput): QueuedAudit {
  const q = input as QueuedAudit;
  q.id = eventId();
  q.at = Date.now();
  return q;
}

export interface ChainReport {
  events: number;
  ok: boolean;
  /** signed checkpoints checked (when a public key was given) */
  checkpoints?: number;
  /** the first event whose link or hash does not match, or the checkpoint the chain fails, with why */
  broken?: { id?: string; reason: string };
}

export interface TrustAnchors {
  /** the trail's checkpoints, oldest first (src/audit/checkpoint.ts) */
  checkpoints: Checkpoint[];
  /** the key that signed them: without it, only the hash links are checked */
  publicKey?: KeyObject;
  /** a checkpoint kept elsewhere (`migfhir audit anchor`): the chain must pass through it */
  anchor?: Checkpoint;
  /** where the chain starts after retention cuts (src/store/sqlite/audit-retention.ts) */
  base?: { events: number; head: string };
}

/** The client of the events recording a retention cut, and what their query names. */
export const RETENTION_CLIENT = 'migfhir-retention';
const namesBase = (event: AuditEvent, base: { events: number; head: string }) =>
  event.agent?.[0]?.altId === RETENTION_CLIENT &&
  (event.entity ?? []).some((e) => e.query && Buffer.from(e.query, 'base64').toString().endsWith(`&events=${base.events}&head=${base.head}`));

/** Walks the stored audit trail in write order and checks every link of the hash chain; with
 * a public key, also that every checkpoint is signed by it, that the chain passes through each
 * (and through the anchor) and reaches the last one: a cut tail, an emptied trail, or a chain
 * rewritten from some event on without the key no longer verifies. */
export async function verifyChain(store: Repository['store'], trust?: TrustAnchors): Promise<ChainReport> {
  const fail = (events: number, reason: string, id?: string): ChainReport => ({ events, ok: false, broken: { ...(id ? { id } : {}), reason } });
  const marks = new Map<number, { head: string; what: string }>();
  let legacyUpTo = Number.POSITIVE_INFINITY;
  const base = trust?.base;
  if (trust?.publicKey) {
    const { checkpoints, publicKey, anchor } = trust;
    if (!checkpoints.length) return fail(0, 'the trail has no signed checkpoint (checkpoints were removed)');
    if (base && !checkpoints.some((c) => c.events === base.events && c.head === base.head && validSignature(c, publicKey))) {
      return fail(base.events, `the trail starts after event ${base.events}, where no signed checkpoint is (events were removed from its start)`);
    }
    // checkpoints inside a part cut by retention name events that are gone
    for (const c of anchor ? [...checkpoints, anchor] : checkpoints) {
      if (base && c.events < base.events) continue;
      const what = c === anchor ? 'the anchor' : `the checkpoint of ${c.at}`;
      if (!validSignature(c, publicKey)) return fail(0, `${what} is not signed by the audit key (forged or changed)`);
      const seen = marks.get(c.events);
      if (seen && seen.head !== c.head) return fail(0, `${what} and ${seen.what} name different heads for event ${c.events}`);
      marks.set(c.events, { head: c.head, what });
    }
    // hashes without meta only for events older than this version's first checkpoint
    legacyUpTo = checkpoints[0].events;
  }
  const check = (events: number, head: string): ChainReport | undefined => {
    const mark = marks.get(events);
    if (mark && mark.head !== head) return fail(events, `the chain does not pass through ${mark.what} (events were changed, removed or rewritten before it)`);
    return undefined;
  };
  // loaded here: render.ts is built from this module's constants (a static import would be a cycle)
  const { contentMatches } = await import('./render.ts');
  let head = base?.head ?? GENESIS;
  let position = 0;
  let events = base?.events ?? 0;
  let cutRecorded = !base;
  const broken = check(events, head);
  if (broken) return broken;
  for (;;) {
    const batch = await store.scan(['AuditEvent'], position, 1000);
    if (!batch.length) break;
    for (const row of batch) {
      const event = JSON.parse(row.json) as AuditEvent;
      const link = hashOf(event);
      const { previous, hash } = link;
      events++;
      if (previous !== head) return fail(events, 'its previous-hash does not match the event before it (an event was removed or reordered)', row.id);
      if (hash === undefined || (!contentMatches(event, row.json, link) && !(link.encoding === undefined && events <= legacyUpTo && hash === legacyChainHash(previous, event)))) {
        return fail(events, 'its content does not match its hash (the event was changed)', row.id);
      }
      head = hash;
      if (!cutRecorded && namesBase(event, base!)) cutRecorded = true;
      const off = check(events, head);
      if (off) return off;
    }
    position = batch[batch.length - 1].position;
  }
  if (!cutRecorded) return fail(events, `the trail starts after event ${base!.events}, but no event records that retention cut (events were removed from its start)`);
  const last = Math.max(0, ...marks.keys());
  if (last > events) return fail(events, `the trail ends at event ${events}, before its signed checkpoint of ${last} events (events were removed from its end)`);
  return { events, ok: true, ...(trust?.publicKey ? { checkpoints: trust.checkpoints.length } : {}) };
}
