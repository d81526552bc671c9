// `migfhir audit verify|anchor|export --mongodb-uri` (src/cli/audit.ts verifyLedgerOf, src/cli/audit-mongo.ts): the verdict on a
// MongoDB deployment's ledger — here the engine's ledger collections over mingo, as in
// test/audit/ledger-mongo.test.ts — with the checkpoints' key, and with an anchor kept elsewhere.
import t, { type Test } from 'tap';
import { Auditor } from '../../src/audit/audit.ts';
import { allCheckpoints, LedgerSink } from '../../src/audit/ledger/mongo.ts';
import { ephemeralSigner, publicKeyFromPem, publicKeyPem, validSignature } from '../../src/audit/checkpoint.ts';
import { exportMongoLedger, mongoAnchor } from '../../src/cli/audit-mongo.ts';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyLedgerOf, type Anchor } from '../../src/cli/audit.ts';
import { Repository } from '../../src/store/repository.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

/** A MongoDB ledger (the engine's collections over mingo) with a signing sink; `reads(from, n)`
 * audits n reads of Patients p<from>… and waits until they are linked. */
async function ledger(t: Test) {
  const store = new MingoSearchStore();
  t.teardown(() => store.close());
  const signer = ephemeralSigner();
  const publicKey = publicKeyFromPem(signer.pem);
  const sink = new LedgerSink(new Repository(store), store.links, (err) => t.fail(err.message), { checkpoints: store.checkpoints, signer });
  await sink.checkpoint(true);
  const auditor = new Auditor(sink, (err) => t.fail(err.message));
  const reads = (from: number, n: number) => {
    for (let i = from; i < from + n; i++) auditor.later({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: `Patient/p${i}`, patient: `Patient/p${i}` });
    return auditor.flush();
  };
  return { store, signer, publicKey, sink, auditor, reads };
}

t.test('audit verify on a MongoDB ledger: intact, with an anchor, and a cut tail, a rollback and a forged anchor detected', async (t) => {
  const { store, signer, publicKey, sink, auditor, reads } = await ledger(t);
  await reads(0, 5);
  await sink.checkpoint(true);
  const last = (await allCheckpoints(store.checkpoints)).at(-1)!;
  const anchor: Anchor = { events: last.events, head: last.head, at: last.at, keyId: last.keyId, signature: last.signature, publicKey: publicKeyPem(publicKey) };
  await reads(5, 3);
  await auditor.close();

  let verdict = await verifyLedgerOf(store, publicKey);
  t.equal(verdict.code, 0);
  t.match(verdict.text, /intact: 8 events, every hash link verified; \d+ signed checkpoints, the last of 8 events/);
  verdict = await verifyLedgerOf(store, publicKey, anchor);
  t.equal(verdict.code, 0, 'passes through the anchor');
  t.match(verdict.text, /passes through the anchor of 5 events/);

  // an anchor signed by another key, or naming another head, is not the ledger's
  const forged = { ...ephemeralSigner().sign({ events: 5, head: anchor.head, at: anchor.at }), publicKey: anchor.publicKey };
  t.match(await verifyLedgerOf(store, publicKey, forged), { code: 1, text: /BROKEN.*not signed by the audit key/ });
  t.match(await verifyLedgerOf(store, publicKey, { ...anchor, head: 'e'.repeat(64) }), { code: 1, text: /BROKEN.*different heads/ });

  // the tail cut, checkpoints with it (a rollback to an older copy): only the anchor shows it
  const batches = [...store.links.docs.values()].sort((a, b) => a._id - b._id);
  const checkpoints = [...store.checkpoints.docs.values()];
  for (const b of batches.filter((b) => b._id > 5)) store.links.docs.delete(b._id);
  for (const c of checkpoints.filter((c) => c._id > 5)) store.checkpoints.docs.delete(c._id);
  for (let i = 5; i < 8; i++) await store.transaction(async (tx) => tx.write({ resourceType: 'AuditEvent', id: batches.flatMap((b) => b.ids)[i], versionId: 2, lastUpdated: new Date().toISOString(), method: 'DELETE', json: null }));
  t.equal((await verifyLedgerOf(store, publicKey)).code, 0, 'consistent with itself without the anchor');
  const older = { ...anchor, ...signer.sign({ events: 8, head: batches.at(-1)!.hashes.at(-1)!, at: new Date().toISOString() }) };
  t.match(await verifyLedgerOf(store, publicKey, older), { code: 1, text: /BROKEN.*ends at event 5, before its signed checkpoint of 8 events/ }, 'an anchor newer than the copy shows the rollback');

  // everything dropped
  store.links.docs.clear();
  store.checkpoints.docs.clear();
  t.match(await verifyLedgerOf(store, publicKey), { code: 1, text: /BROKEN.*no signed checkpoint/ });
});

t.test('audit anchor and export on a MongoDB ledger: the events since an instant in chain order, verifiable from the manifest alone', async (t) => {
  const { store, publicKey, sink, auditor, reads: audit } = await ledger(t);
  const reads = async (from: number, n: number) => {
    await audit(from, n);
    await sink.checkpoint(true);
  };
  await reads(0, 5);
  await new Promise((r) => setTimeout(r, 5));
  const since = new Date().toISOString();
  await new Promise((r) => setTimeout(r, 5));
  await reads(5, 4);
  await auditor.close();

  const anchor = await mongoAnchor(store, publicKey);
  t.equal(anchor?.events, 9, 'the anchor is the latest checkpoint');
  t.ok(anchor && validSignature(anchor, publicKey), 'signed by the audit key');

  const dir = mkdtempSync(join(tmpdir(), 'migfhir-mongo-export-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const result = await exportMongoLedger(store, since, dir, publicKey);
  t.same(result, { after: 5, events: 4, checkpoints: 2 });
  const lines = readFileSync(join(dir, 'AuditEvent.ndjson'), 'utf8').trim().split('\n');
  t.same(lines.map((l) => JSON.parse(l).entity[0].what.reference), ['Patient/p5', 'Patient/p6', 'Patient/p7', 'Patient/p8'], 'the events since, in chain order');
  const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
  const checkpoints = readFileSync(join(dir, 'checkpoints.ndjson'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  // an archive's check, from the files alone
  const heads = new Map<number, string>([[manifest.after, manifest.previous]]);
  let head = manifest.previous;
  lines.forEach((line, i) => heads.set(manifest.after + i + 1, (head = createHash('sha256').update(head).update(line).digest('hex'))));
  for (const c of checkpoints) {
    t.ok(validSignature(c, publicKeyFromPem(manifest.publicKey)), `checkpoint of ${c.events} events signed`);
    t.equal(heads.get(c.events), c.head, `the exported chain passes through the checkpoint of ${c.events} events`);
  }
  t.equal(checkpoints.at(-1).events, 9, 'up to the last');

  const empty = await exportMongoLedger(store, new Date(Date.now() + 60_000).toISOString(), join(dir, 'none'), publicKey);
  t.same(empty, { after: 9, events: 0, checkpoints: 1 }, 'nothing since: an empty export after the head');
});
