// The inbound message log of the MongoDB engine (src/store/message-log.ts): the collection
// inbound_messages, beside `resources` and `history`, written outside any transaction (a
// refused message's entry must outlive the rollback that refused it). Entries are ordered by
// the time they were received, then by id; the content is kept as base64 text so that the
// driver and the test double (mingo) hand back the same thing.
import type { MongoCollection } from './backend.ts';
import type { InboundMessage, InboundSummary, MessageLogQuery, MessageLogStore, PruneBounds } from '../message-log.ts';

export const MESSAGE_LOG_COLLECTION = 'inbound_messages';

/** The indexes the log's reads and pruning use (created by MongoStore.open). */
export const MESSAGE_LOG_INDEXES: { name: string; key: Record<string, 1 | -1> }[] = [
  { name: 'newest', key: { at: -1, _id: -1 } },
  { name: 'ack', key: { ack: 1, at: -1 } },
];

interface MessageDocument {
  _id: string;
  at: string;
  door: InboundSummary['door'];
  kind: InboundSummary['kind'];
  sender?: string;
  cid?: string;
  event?: string;
  ack: InboundSummary['ack'];
  issues: InboundSummary['issues'];
  written: string[];
  size: number;
  kept: boolean;
  content?: string;
  charset?: string;
}

const SUMMARY_FIELDS = { _id: 1, at: 1, door: 1, kind: 1, sender: 1, cid: 1, event: 1, ack: 1, issues: 1, written: 1, size: 1, kept: 1 } as const;

function summaryOf(d: Omit<MessageDocument, 'content'>): InboundSummary {
  return {
    id: d._id,
    received: d.at,
    door: d.door,
    kind: d.kind,
    ...(d.sender !== undefined ? { sender: d.sender } : {}),
    ...(d.cid !== undefined ? { controlId: d.cid } : {}),
    ...(d.event !== undefined ? { event: d.event } : {}),
    ack: d.ack,
    issues: d.issues ?? [],
    written: d.written ?? [],
    size: d.size,
    contentKept: d.kept,
  };
}

/** How often the count bound is enforced: after appends of 1% of it (an index walk of `keep`
 * entries is too dear for every message at 10,000), and at least once a minute. */
const COUNT_EVERY_MS = 60_000;

export class MongoMessageLog implements MessageLogStore {
  private readonly coll: MongoCollection<MessageDocument>;
  private readonly clock: () => number;
  /** entries this process appended since it last enforced the count bound */
  private appended = 0;
  private countedAt = 0;

  constructor(coll: MongoCollection<MessageDocument>, clock: () => number = Date.now) {
    this.coll = coll;
    this.clock = clock;
  }

  async append(entries: InboundMessage[], bounds?: PruneBounds): Promise<void> {
    this.appended += entries.length;
    for (const e of entries) {
      await this.coll.insertOne({
        _id: e.id, at: e.received, door: e.door, kind: e.kind,
        ...(e.sender !== undefined ? { sender: e.sender } : {}),
        ...(e.controlId !== undefined ? { cid: e.controlId } : {}),
        ...(e.event !== undefined ? { event: e.event } : {}),
        ack: e.ack, issues: e.issues, written: e.written, size: e.size, kept: e.content !== undefined,
        ...(e.content !== undefined ? { content: e.content.toString('base64') } : {}),
        ...(e.charset !== undefined ? { charset: e.charset } : {}),
      });
    }
    if (bounds) await this.prune(bounds.before, bounds.keep);
  }

  async list(q: MessageLogQuery): Promise<InboundSummary[]> {
    const filter: Record<string, unknown> = {};
    if (q.ack?.length) filter.ack = { $in: q.ack };
    if (q.kind) filter.kind = q.kind;
    const docs = await this.coll.find(filter, { projection: SUMMARY_FIELDS }).sort({ at: -1, _id: -1 }).limit(q.count).toArray();
    return docs.map(summaryOf);
  }

  async read(id: string): Promise<InboundMessage | undefined> {
    const d = await this.coll.findOne({ _id: id });
    if (!d) return undefined;
    return { ...summaryOf(d), ...(d.content !== undefined ? { content: Buffer.from(d.content, 'base64') } : {}), ...(d.charset !== undefined ? { charset: d.charset } : {}) };
  }

  async prune(before: string, keep: number): Promise<number> {
    // by age: a range of the `newest` index, usually empty or one entry (pruned after every append)
    const old = await this.coll.find({ at: { $lt: before } }, { projection: { _id: 1 } }).limit(1000).toArray();
    // by count: the entries past the newest `keep` (the collection may hold up to 1% more between two checks)
    const now = this.clock();
    let excess: Record<string, unknown>[] = [];
    if (this.appended >= Math.max(1, Math.floor(keep / 100)) || now - this.countedAt >= COUNT_EVERY_MS) {
      this.appended = 0;
      this.countedAt = now;
      excess = await this.coll.aggregate([{ $sort: { at: -1, _id: -1 } }, { $skip: keep }, { $project: { _id: 1 } }, { $limit: 1000 }]).toArray();
    }
    const ids = new Set<string>([...old.map((d) => d._id), ...excess.map((d) => String(d._id))]);
    for (const _id of ids) await this.coll.deleteOne({ _id });
    return ids.size;
  }

  async close(): Promise<void> {}
}
