// The audit chain on MongoDB: an insert-only collection, `audit_ledger`, of link batches. A
// batch's _id is the sequence number of its first event, so the chain's head is one seek on the
// _id index (no scan of the AuditEvents, #23 finding 3), and two server processes cannot both
// append after the same head: the second insert of the same _id fails with a duplicate key and
// that process re-reads the head and links its events after the winner's (finding 4; before,
// each process chose the head by its own clock and the chain forked).
//
// The AuditEvents themselves are stored through the repository (indexed for search as any
// resource; the engine keeps each as its fields, not its JSON: src/store/mongo/audit-documents.ts),
// in the write's own transaction for writes; once committed they are linked, in the order their process links
// them: a link is sha256(previous hash + the event's stored JSON), meta included. Linking after
// the commit keeps a transaction the driver retries, or one that rolls back, from leaving a link
// to an event that was never stored. The price: events of a process that dies between the commit
// and the link are stored but unlinked, which `verifyLedger` reports like inserted events.
import { createHash, type KeyObject } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { auditEvent, GENESIS, type AuditSink, type QueuedAudit } from '../audit.ts';
import { CHECKPOINT_EVENTS, CHECKPOINT_MS, validSignature, type Checkpoint, type CheckpointSigner } from '../checkpoint.ts';
import type { Repository } from '../../store/repository.ts';
import type { ResourceStore, VersionWrite } from '../../store/types.ts';

/** One appended batch of links. */
export interface LinkBatch {
  /** sequence number of the batch's first event (1 for the trail's first) */
  _id: number;
  /** hash of the event before the batch's first (GENESIS for none) */
  prev: string;
  /** AuditEvent ids, in chain order */
  ids: string[];
  /** the chain hash after each of them */
  hashes: string[];
  /** when the batch was linked (ISO instant) */
  at: string;
}

/** The part of a driver Collection the ledger uses (a test gives a fake of it). */
export interface InsertOnly<T extends { _id: number }> {
  find(filter: Record<string, unknown>): { sort(sort: Record<string, 1 | -1>): { limit(n: number): { toArray(): Promise<T[]> } } };
  insertOne(doc: T): Promise<unknown>;
}

export type LinkCollection = InsertOnly<LinkBatch>;
/** a checkpoint under the number of events it covers */
export type CheckpointDocument = Checkpoint & { _id: number };
export type CheckpointCollection = InsertOnly<CheckpointDocument>;

/** A store whose engine keeps the audit chain in a ledger collection (MongoDB). */
export interface LedgerStore extends ResourceStore {
  auditLinks(): LinkCollection;
  auditCheckpoints(): CheckpointCollection;
}

const DUPLICATE_KEY = 11000;
/** appends lost to other processes in a row before giving up (each loss means another process
 * appended: the chain moved on) */
const MAX_TRIES = 1000;

export const linkHash = (previous: string, json: string) => createHash('sha256').update(previous).update(json).digest('hex');

/** The newest document: one seek on _id. */
async function newest<T extends { _id: number }>(coll: InsertOnly<T>): Promise<T | undefined> {
  return (await coll.find({}).sort({ _id: -1 }).limit(1).toArray())[0];
}
const lastBatch = newest<LinkBatch>;

/** Inserts; false when the _id is taken. */
async function inserted<T extends { _id: number }>(coll: InsertOnly<T>, doc: T): Promise<boolean> {
  try {
    await coll.insertOne(doc);
    return true;
  } catch (err) {
    if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
    return false;
  }
}

/** Every checkpoint, oldest first. */
export function allCheckpoints(checkpoints: CheckpointCollection): Promise<CheckpointDocument[]> {
  return checkpoints.find({}).sort({ _id: 1 }).limit(1_000_000).toArray();
}

/** Appends links for `events` (stored JSON, in order) after the chain's head. */
export async function appendLinks(links: LinkCollection, events: { id: string; json: string }[]): Promise<void> {
  if (!events.length) return;
  for (let tries = 0; tries < MAX_TRIES; tries++) {
    const last = await lastBatch(links);
    const prev = last ? last.hashes[last.hashes.length - 1] : GENESIS;
    let head = prev;
    const hashes = events.map((e) => (head = linkHash(head, e.json)));
    const batch: LinkBatch = { _id: last ? last._id + last.ids.length : 1, prev, ids: events.map((e) => e.id), hashes, at: new Date().toISOString() };
    // false: another process appended after the same head first; link after its batch
    if (await inserted(links, batch)) return;
  }
  throw new Error(`audit ledger: ${MAX_TRIES} appends in a row lost to other processes`);
}

/** The Auditor's sink on an engine with a ledger collection. */
export class LedgerSink implements AuditSink {
  private readonly repo: Repository;
  private readonly links: LinkCollection;
  private readonly checkpoints: CheckpointCollection | undefined;
  private readonly signer: CheckpointSigner | undefined;
  /** committed events of this process not yet linked, and the linking in progress */
  private queue: { id: string; json: string }[] = [];
  private linking: Promise<void> = Promise.resolve();
  private readonly onError: (err: Error) => void;

  /** without `signing`, no checkpoint is written (tests of the chain alone) */
  constructor(repo: Repository, links: LinkCollection, onError: (err: Error) => void, signing?: { checkpoints: CheckpointCollection; signer: CheckpointSigner }) {
    this.repo = repo;
    this.links = links;
    this.onError = onError;
    this.checkpoints = signing?.checkpoints;
    this.signer = signing?.signer;
    // every committed AuditEvent of this process, whichever transaction stored it
    repo.onCommit((written: VersionWrite[]) => {
      const events = written.filter((v) => v.resourceType === 'AuditEvent' && v.json !== null && v.versionId === 1);
      if (!events.length) return;
      for (const v of events) this.queue.push({ id: v.id, json: v.json! });
      this.linking = this.linking.then(() => this.drain()).catch((err: Error) => this.onError(err));
    });
  }

  private async drain(): Promise<void> {
    const events = this.queue;
    this.queue = [];
    await appendLinks(this.links, events);
    await this.checkpoint(false);
  }

  /** Signs the chain's head when due (`always`: when it moved since the last checkpoint — at
   * start, anchoring what is there, and at close). */
  async checkpoint(always: boolean): Promise<void> {
    if (!this.checkpoints || !this.signer) return;
    const last = await lastBatch(this.links);
    const events = last ? last._id + last.ids.length - 1 : 0;
    const signed = await newest(this.checkpoints);
    if (signed) {
      if (signed.events >= events) return;
      if (!always && events - signed.events < CHECKPOINT_EVENTS && Date.now() - Date.parse(signed.at) < CHECKPOINT_MS) return;
    }
    const c = this.signer.sign({ events, head: last ? last.hashes[last.hashes.length - 1] : GENESIS, at: new Date().toISOString() });
    // false: another process signed this position (the same head) first
    await inserted(this.checkpoints, { _id: c.events, ...c });
  }

  /** stored in the caller's open transaction; linked once it commits */
  inTransaction(events: QueuedAudit[]): Promise<void> {
    return this.store(events);
  }

  /** resolves once the batch is stored and linked */
  async write(batch: QueuedAudit[]): Promise<void> {
    await this.store(batch);
    await this.linking;
  }

  private async store(inputs: QueuedAudit[]): Promise<void> {
    await this.repo.transaction(async () => {
      for (const input of inputs) {
        const event = auditEvent(input, new Date(input.at).toISOString(), input.id);
        // meta in the renderer's order (versionId, lastUpdated, security; the repository fills
        // the first two in place), so the engine keeps the event as its fields and renders back
        // these very characters (src/store/mongo/audit-documents.ts)
        event.meta = { versionId: '1', lastUpdated: '', ...event.meta };
        await this.repo.createInternal(event as Resource);
      }
    });
  }

  async close(): Promise<void> {
    await this.linking;
    await this.checkpoint(true);
  }
}

export interface LedgerReport {
  events: number;
  ok: boolean;
  broken?: { id?: string; reason: string };
}

/** Walks the ledger in sequence order: every batch follows the one before (no gap, no fork),
 * every linked event is stored with the content its link hashed, and every stored AuditEvent is
 * linked once; with a public key, also that every checkpoint is signed by it and that the chain
 * passes through each and reaches the last (a cut tail or an emptied ledger). */
export async function verifyLedger(store: ResourceStore, links: LinkCollection, trust?: { checkpoints: Checkpoint[]; publicKey: KeyObject }): Promise<LedgerReport> {
  const fail = (events: number, reason: string, id?: string): LedgerReport => ({ events, ok: false, broken: { ...(id ? { id } : {}), reason } });
  const marks = new Map<number, Checkpoint>();
  if (trust) {
    if (!trust.checkpoints.length) return fail(0, 'the ledger has no signed checkpoint (checkpoints were removed)');
    for (const c of trust.checkpoints) {
      if (!validSignature(c, trust.publicKey)) return fail(0, `the checkpoint of ${c.at} is not signed by the audit key (forged or changed)`);
      marks.set(c.events, c);
    }
  }
  const passes = (events: number, head: string) => {
    const mark = marks.get(events);
    return !mark || mark.head === head;
  };
  if (!passes(0, GENESIS)) return fail(0, 'the chain does not pass through a checkpoint');
  let head = GENESIS;
  let next = 1;
  const linked = new Set<string>();
  for (;;) {
    const batches = await links.find({ _id: { $gte: next } }).sort({ _id: 1 }).limit(100).toArray();
    if (!batches.length) break;
    for (const b of batches) {
      if (b._id !== next) return fail(next - 1, `the ledger skips from event ${next - 1} to ${b._id} (links were removed)`);
      if (b.prev !== head) return fail(next - 1, `the batch from event ${b._id} does not follow the one before it (the chain forked or was changed)`);
      for (let i = 0; i < b.ids.length; i++) {
        const id = b.ids[i];
        const current = await store.current('AuditEvent', id);
        if (!current?.json || current.deleted) return fail(next + i, 'a linked event is not stored (it was removed)', id);
        if (linkHash(head, current.json) !== b.hashes[i]) return fail(next + i, 'its content does not match its link (the event was changed)', id);
        if (linked.has(id)) return fail(next + i, 'the event is linked twice', id);
        linked.add(id);
        head = b.hashes[i];
        if (!passes(next + i, head)) return fail(next + i, `the chain does not pass through the checkpoint of ${marks.get(next + i)!.at} (events were changed, removed or rewritten before it)`, id);
      }
      next = b._id + b.ids.length;
    }
  }
  const last = Math.max(0, ...marks.keys());
  if (last > linked.size) return fail(linked.size, `the ledger ends at event ${linked.size}, before its signed checkpoint of ${last} events (events were removed from its end)`);
  let position = 0;
  for (;;) {
    const page = await store.scan(['AuditEvent'], position, 1000);
    if (!page.length) break;
    for (const r of page) if (!linked.has(r.id)) return fail(linked.size, 'a stored AuditEvent is not in the chain (inserted, or its server stopped before linking it)', r.id);
    position = page[page.length - 1].position;
  }
  return { events: linked.size, ok: true };
}
