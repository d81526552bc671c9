// `migfhir audit anchor|export --mongodb-uri`: the MongoDB ledger's latest checkpoint, and its
// events since an instant with the checkpoints among them (docs/audit.md). On MongoDB an event's
// link is not inside the event: the chain is the `audit_ledger` collection's link batches
// (src/audit/ledger/mongo.ts), each event's hash sha256(previous hash + its JSON). So the export
// writes the events in chain order as readers get them, and the manifest says how to chain them:
// start from `previous`, hash each line after it; each checkpoint names the head after its
// `events`-th event. `audit prune` is not offered on MongoDB (docs/audit.md says why).
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { GENESIS } from '../audit/audit.ts';
import { publicKeyPem, type Checkpoint } from '../audit/checkpoint.ts';
import { allCheckpoints, type LedgerStore, type LinkBatch } from '../audit/ledger/mongo.ts';

/** The ledger's latest checkpoint with the key that signed it (what `audit anchor` prints), or
 * undefined before the first. */
export async function mongoAnchor(store: LedgerStore, publicKey: KeyObject): Promise<(Checkpoint & { publicKey: string }) | undefined> {
  const last = (await allCheckpoints(store.auditCheckpoints())).at(-1);
  if (!last) return undefined;
  const { events, head, at, keyId, signature } = last;
  return { events, head, at, keyId, signature, publicKey: publicKeyPem(publicKey) };
}

export interface MongoExport {
  /** events of the chain before the first exported */
  after: number;
  events: number;
  checkpoints: number;
}

/** Writes OUT/AuditEvent.ndjson (the events linked from the first one stored at or after `since`
 * on, in chain order), OUT/checkpoints.ndjson (the signed checkpoints at or after that position)
 * and OUT/manifest.json. An event's time is its meta.lastUpdated; a link batch is written after
 * its events were stored, so batches linked before `since` are skipped unread. */
export async function exportMongoLedger(store: LedgerStore, since: string, output: string, publicKey: KeyObject): Promise<MongoExport> {
  const dir = resolve(output);
  mkdirSync(dir, { recursive: true });
  const out = createWriteStream(join(dir, 'AuditEvent.ndjson'));
  const links = store.auditLinks();
  let start: { after: number; previous: string } | undefined;
  let last = 0;
  let next = 1;
  let previous = GENESIS;
  for (;;) {
    const batches: LinkBatch[] = await links.find({ _id: { $gte: next } }).sort({ _id: 1 }).limit(100).toArray();
    if (!batches.length) break;
    for (const b of batches) {
      if (start || b.at >= since) {
        for (let i = 0; i < b.ids.length; i++) {
          const prev = i === 0 ? b.prev : b.hashes[i - 1];
          const event = await store.current('AuditEvent', b.ids[i]);
          if (!start) {
            if (!event?.json || event.lastUpdated < since) continue;
            start = { after: b._id + i - 1, previous: prev };
          }
          // a linked event that is gone is left out: the exported chain then breaks there, as
          // `audit verify` reports on the database
          if (event?.json && !out.write(`${event.json}\n`)) await once(out, 'drain');
        }
      }
      last = b._id + b.ids.length - 1;
      previous = b.hashes[b.hashes.length - 1] ?? previous;
      next = b._id + b.ids.length;
    }
  }
  out.end();
  await once(out, 'finish');
  const after = start?.after ?? last;
  const kept = (await allCheckpoints(store.auditCheckpoints())).filter((c) => c.events >= after).map(({ events, head, at, keyId, signature }) => ({ events, head, at, keyId, signature }));
  writeFileSync(join(dir, 'checkpoints.ndjson'), kept.map((c) => `${JSON.stringify(c)}\n`).join(''));
  const manifest = {
    since,
    after,
    previous: start?.previous ?? previous,
    events: last - after,
    checkpoints: kept.length,
    chain: 'each line: hash = sha256(previous hash as hex text + the line), hex; the first line follows `previous`',
    publicKey: publicKeyPem(publicKey),
  };
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return { after, events: last - after, checkpoints: kept.length };
}
