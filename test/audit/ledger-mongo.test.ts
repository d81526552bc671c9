// #23 findings 3 and 4: on MongoDB the chain's head was found by sorting every AuditEvent by
// _lastUpdated, and two server processes, each choosing the head by its own clock, forked the
// chain. The ledger collection (src/audit/ledger/mongo.ts) numbers the chain: here two sinks —
// two server processes — share one database (the engine's search code over mingo) and one
// ledger collection (a fake with MongoDB's unique _id), audit at the same time, and the ledger
// verifies as one chain.
import t, { type Test } from 'tap';
import { Auditor, type AuditInput } from '../../src/audit/audit.ts';
import { allCheckpoints, appendLinks, LedgerSink, verifyLedger } from '../../src/audit/ledger/mongo.ts';
import { ephemeralSigner, publicKeyFromPem, type CheckpointSigner } from '../../src/audit/checkpoint.ts';
import { auditSink } from '../../src/audit/sinks.ts';
import { Repository } from '../../src/store/repository.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

const read = (server: number, i: number): AuditInput => ({ interaction: 'read', action: 'R', status: 200, clientId: `server-${server}`, what: `Patient/p${i}`, patient: `Patient/p${i}` });
const write = (server: number, i: number): AuditInput => ({ interaction: 'update', action: 'U', status: 200, clientId: `server-${server}`, what: `Patient/w${i}`, patient: `Patient/w${i}` });

/** `signer`: both servers sign checkpoints with it (one key file, as two processes of one deployment) */
async function twoServers(t: Test, signer?: CheckpointSigner) {
  const store = new MingoSearchStore();
  t.teardown(() => store.close());
  const servers = await Promise.all(
    [0, 1].map(async () => {
      const repo = new Repository(store);
      const sink = new LedgerSink(repo, store.links, (err) => t.fail(err.message), signer ? { checkpoints: store.checkpoints, signer } : undefined);
      await sink.checkpoint(true);
      return { repo, auditor: new Auditor(sink, (err) => t.fail(err.message)) };
    }),
  );
  return { store, servers };
}

t.test('two servers auditing at once on one database form one chain, with no fork and no gap', async (t) => {
  const { store, servers } = await twoServers(t);
  const work: Promise<void>[] = [];
  for (let i = 0; i < 40; i++) {
    servers.forEach(({ repo, auditor }, s) => {
      auditor.later(read(s, i));
      if (i % 5 === 0) work.push(repo.transaction(() => auditor.inTransaction(write(s, i))));
      if (i % 7 === 0) work.push(auditor.flush());
    });
  }
  await Promise.all(work);
  await Promise.all(servers.map(({ auditor }) => auditor.close()));
  const events = (await store.scan(['AuditEvent'], 0, 1000)).length;
  t.equal(events, 2 * (40 + 8));
  t.ok(store.links.duplicates > 0, `the servers raced for the head (${store.links.duplicates} appends lost and retried)`);
  t.same(await verifyLedger(store, store.links), { events, ok: true });
  const ids = [...store.links.docs.values()].sort((a, b) => a._id - b._id);
  t.equal(ids[0]._id, 1);
  t.ok(ids.every((b, i) => i === 0 || b._id === ids[i - 1]._id + ids[i - 1].ids.length), 'consecutive sequence numbers');
});

t.test('finding the head reads the ledger by sequence, never the AuditEvents', async (t) => {
  const { store, servers } = await twoServers(t);
  for (let i = 0; i < 5; i++) servers[0].auditor.later(read(0, i));
  await servers[0].auditor.flush();
  store.pipelines.length = 0;
  for (let i = 0; i < 5; i++) servers[1].auditor.later(read(1, i));
  await servers[1].auditor.flush();
  await servers[1].repo.transaction(() => servers[1].auditor.inTransaction(write(1, 0)));
  await servers[1].auditor.close();
  t.same(store.pipelines, [], 'no search ran');
  t.same(await verifyLedger(store, store.links), { events: 11, ok: true });
});

t.test('a removed link batch, a changed event, an unlinked event and a fork are each detected', async (t) => {
  const { store, servers } = await twoServers(t);
  for (let b = 0; b < 3; b++) {
    for (let i = 0; i < 4; i++) servers[b % 2].auditor.later(read(b % 2, b * 4 + i));
    await servers[b % 2].auditor.flush();
  }
  t.equal((await verifyLedger(store, store.links)).ok, true);
  const batches = [...store.links.docs.values()].sort((a, b) => a._id - b._id);
  t.equal(batches.length, 3);
  // a gap
  store.links.docs.delete(batches[1]._id);
  let report = await verifyLedger(store, store.links);
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /skips from event 4 to 9/);
  store.links.docs.set(batches[1]._id, batches[1]);
  // a fork: a batch linked after another head
  store.links.docs.set(batches[2]._id, { ...batches[2], prev: batches[0].hashes.at(-1)! });
  report = await verifyLedger(store, store.links);
  t.match(report.broken!.reason, /forked or was changed/);
  store.links.docs.set(batches[2]._id, batches[2]);
  t.equal((await verifyLedger(store, store.links)).ok, true, 'restored');
  // a changed event: its stored content is no longer what its link hashed
  const victim = batches[0].ids[1];
  await store.transaction(async (tx) => {
    const v = (await tx.current('AuditEvent', victim))!;
    await tx.rewrite('AuditEvent', victim, v.versionId, v.json!.replace('"outcome":"0"', '"outcome":"8"'));
  });
  report = await verifyLedger(store, store.links);
  t.match(report.broken!.reason, /changed/);
  t.equal(report.broken!.id, victim);
  // an event stored without a link (inserted behind the sink's back)
  const { store: other, servers: more } = await twoServers(t);
  more[0].auditor.later(read(0, 1));
  await more[0].auditor.flush();
  await new Repository(other).createInternal({ resourceType: 'AuditEvent', id: 'inserted', type: { code: 'rest' }, recorded: '2026-01-01T00:00:00Z', agent: [{ requestor: true }], source: { observer: { display: 'x' } } } as never);
  report = await verifyLedger(other, other.links);
  t.match(report.broken!.reason, /not in the chain/);
  t.equal(report.broken!.id, 'inserted');
});

t.test('an append lost to another server is retried after the new head', async (t) => {
  const { store } = await twoServers(t);
  await Promise.all([0, 1, 2].map((s) => appendLinks(store.links, [{ id: `e${s}`, json: `{"n":${s}}` }])));
  t.same([...store.links.docs.keys()].sort(), [1, 2, 3]);
  t.ok(store.links.duplicates >= 2);
});

t.test('the server chooses the ledger sink on an engine that keeps a ledger', async (t) => {
  const store = new MingoSearchStore();
  t.teardown(() => store.close());
  const sink = await auditSink(new Repository(store), (err) => t.fail(err.message));
  t.type(sink, LedgerSink);
});

t.test('signed checkpoints on the ledger: two servers sign one chain; a cut tail, an emptied ledger and a forged checkpoint are detected', async (t) => {
  const signer = ephemeralSigner();
  const publicKey = publicKeyFromPem(signer.pem);
  const { store, servers } = await twoServers(t, signer);
  for (let i = 0; i < 12; i++) servers[i % 2].auditor.later(read(i % 2, i));
  await Promise.all(servers.map(({ auditor }) => auditor.flush()));
  await Promise.all(servers.map(({ auditor }) => auditor.close()));
  const trust = async () => ({ checkpoints: await allCheckpoints(store.checkpoints), publicKey });
  const signed = await allCheckpoints(store.checkpoints);
  t.equal(signed[0].events, 0, 'the first, at start, anchors the empty ledger');
  t.equal(signed.at(-1)!.events, 12, 'signed at close');
  t.same(await verifyLedger(store, store.links, await trust()), { events: 12, ok: true });
  // the tail: the newest batch and its events removed
  const batches = [...store.links.docs.values()].sort((a, b) => a._id - b._id);
  const tail = batches.at(-1)!;
  store.links.docs.delete(tail._id);
  let report = await verifyLedger(store, store.links, await trust());
  t.equal(report.ok, false);
  t.match(report.broken!.reason, /(ends at event \d+, before its signed checkpoint of 12 events|not in the chain)/);
  // everything
  store.links.docs.clear();
  report = await verifyLedger(store, store.links, await trust());
  t.match(report.broken!.reason, /before its signed checkpoint of 12 events/);
  for (const b of batches) store.links.docs.set(b._id, b);
  t.equal((await verifyLedger(store, store.links, await trust())).ok, true, 'restored');
  // a forged checkpoint: another key's signature
  const forged = ephemeralSigner().sign({ events: 3, head: 'f'.repeat(64), at: new Date().toISOString() });
  await store.checkpoints.insertOne({ _id: 3, ...forged });
  report = await verifyLedger(store, store.links, await trust());
  t.match(report.broken!.reason, /not signed by the audit key/);
  store.checkpoints.docs.delete(3);
  store.checkpoints.docs.clear();
  report = await verifyLedger(store, store.links, await trust());
  t.match(report.broken!.reason, /no signed checkpoint/);
});
