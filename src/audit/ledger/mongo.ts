// The audit chain on MongoDB: an insert-only collection, `audit_ledger`, of link batches. A
// batch's _id is the sequence number of its first event, so the chain's head is one seek on the
// _id index (no scan of the AuditEvents, #23 finding 3), and two server processes cannot both
// append after the same head: the second insert of the same _id fails with a duplicate key and
// that process re-reads the head and links its events after the winner's (finding 4; before,
// each process chose the head by its own clock and the chain forked).
//
// The AuditEvents themselves are stored as resources (searchable as any), in the write's own
// transaction for writes; once committed they are linked, in the order their process links
// them: a link is sha256(previous hash + the event's stored JSON), meta included. Linking after
// the commit keeps a transaction the driver retries, or one that rolls back, from leaving a link
// to an event that was never stored. The price: events of a process that dies between the commit
// and the link are stored but unlinked, which `verifyLedger` reports like inserted events.
import { createHash } from 'node:crypto';
import type { Resource } from 'fhir/r4.js';
import { auditEvent, GENESIS, type AuditSink, type QueuedAudit } from '../audit.ts';
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
export interface LinkCollection {
  find(filter: Record<string, unknown>): { sort(sort: Record<string, 1 | -1>): { limit(n: number): { toArray(): Promise<LinkBatch[]> } } };
  insertOne(doc: LinkBatch): Promise<unknown>;
}

/** A store whose engine keeps the audit chain in a ledger collection (MongoDB). */
export interface LedgerStore extends ResourceStore {
  auditLinks(): LinkCollection;
}

export function keepsLedger(store: ResourceStore): store is LedgerStore {
  return typeof (store as Partial<LedgerStore>).auditLinks === 'function';
}

const DUPLICATE_KEY = 11000;
/** appends lost to other processes in a row before giving up (each loss means another process
 * appended: the chain moved on) */
const MAX_TRIES = 1000;

export const linkHash = (previous: string, json: string) => createHash('sha256').update(previous).update(json).digest('hex');

/** The newest batch: one seek on _id. */
async function lastBatch(links: LinkCollection): Promise<LinkBatch | undefined> {
  return (await links.find({}).sort({ _id: -1 }).limit(1).toArray())[0];
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
    try {
      await links.insertOne(batch);
      return;
    } catch (err) {
      // another process appended after the same head first: link after its batch
      if ((err as { code?: number }).code !== DUPLICATE_KEY) throw err;
    }
  }
  throw new Error(`audit ledger: ${MAX_TRIES} appends in a row lost to other processes`);
}

/** The Auditor's sink on an engine with a ledger collection. */
export class LedgerSink implements AuditSink {
  private readonly repo: Repository;
  private readonly links: LinkCollection;
  /** committed events of this process not yet linked, and the linking in progress */
  private queue: { id: string; json: string }[] = [];
  private linking: Promise<void> = Promise.resolve();
  private readonly onError: (err: Error) => void;

  constructor(repo: Repository, links: LinkCollection, onError: (err: Error) => void) {
    this.repo = repo;
    this.links = links;
    this.onError = onError;
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
  }

  /** stored in the caller's open transaction; linked once it commits */
  inTransaction(input: QueuedAudit): Promise<void> {
    return this.store([input]);
  }

  /** resolves once the batch is stored and linked */
  async write(batch: QueuedAudit[]): Promise<void> {
    await this.store(batch);
    await this.linking;
  }

  private async store(inputs: QueuedAudit[]): Promise<void> {
    await this.repo.transaction(async () => {
      for (const input of inputs) await this.repo.createInternal(auditEvent(input, new Date(input.at).toISOString(), input.id) as Resource);
    });
  }

  async close(): Promise<void> {
    await this.linking;
  }
}

export interface LedgerReport {
  events: number;
  ok: boolean;
  broken?: { id?: string; reason: string };
}

/** Walks the ledger in sequence order: every batch follows the one before (no gap, no fork),
 * every linked event is stored with the content its link hashed, and every stored AuditEvent is
 * linked once. */
export async function verifyLedger(store: ResourceStore, links: LinkCollection): Promise<LedgerReport> {
  const fail = (events: number, reason: string, id?: string): LedgerReport => ({ events, ok: false, broken: { ...(id ? { id } : {}), reason } });
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
      }
      next = b._id + b.ids.length;
    }
  }
  let position = 0;
  for (;;) {
    const page = await store.scan(['AuditEvent'], position, 1000);
    if (!page.length) break;
    for (const r of page) if (!linked.has(r.id)) return fail(linked.size, 'a stored AuditEvent is not in the chain (inserted, or its server stopped before linking it)', r.id);
    position = page[page.length - 1].position;
  }
  return { events: linked.size, ok: true };
}
