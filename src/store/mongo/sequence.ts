// History order without a global counter. Each server process claims a node number (0…2047)
// in the small `nodes` collection at start (one write, renewed every few minutes), and issues
// lastUpdated instants that strictly increase within the process (at most one per millisecond).
// A version's sequence number is then lastUpdated (ms) × 2048 + node: unique across processes
// without any shared write, ordered by time (ties of the same millisecond broken by node), and
// below 2^53 until the year 2109. The process clock is corrected by the server's clock, read at
// start (hello.localTime), so processes on machines with skewed clocks still agree on order.
import { randomUUID } from 'node:crypto';
import { MongoServerError } from 'mongodb';
import type { MongoCollection } from './backend.ts';

export const NODES = 2048;
/** a claim not renewed for this long is free again (a process that died) */
export const LEASE_MS = 10 * 60_000;
const DUPLICATE_KEY = 11000;

export interface NodeClaim {
  _id: number;
  owner: string;
  at: number;
}

export function sequenceOf(lastUpdated: string, node: number): number {
  return Date.parse(lastUpdated) * NODES + node;
}

/** Claims a free node number: a random one first, then the others in order. */
export async function claimNode(nodes: MongoCollection<NodeClaim>, now: number, owner = randomUUID()): Promise<{ node: number; owner: string }> {
  const start = Math.floor(Math.random() * NODES);
  for (let i = 0; i < NODES; i++) {
    const node = (start + i) % NODES;
    try {
      // matches only a stale claim; otherwise the upsert inserts, and a live claim's _id refuses it
      await nodes.updateOne({ _id: node, at: { $lt: now - LEASE_MS } }, { $set: { owner, at: now } }, { upsert: true });
      return { node, owner };
    } catch (err) {
      if (err instanceof MongoServerError && err.code === DUPLICATE_KEY) continue;
      throw err;
    }
  }
  throw new Error(`All ${NODES} node numbers are claimed by live migfhir processes`);
}

/** Renews a claim; false when another process took it over (this one was silent past the lease). */
export async function renewNode(nodes: MongoCollection<NodeClaim>, claim: { node: number; owner: string }, now: number): Promise<boolean> {
  const r = await nodes.updateOne({ _id: claim.node, owner: claim.owner }, { $set: { at: now } });
  return r.matchedCount === 1;
}
