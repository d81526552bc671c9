// The MongoDB engine keeps the AuditEvents it writes as compact documents (#19,
// src/store/mongo/audit-documents.ts): their fields and search index entries in `resources`, no
// JSON body, no `history` version. Driven through the REST API on the engine over the test
// double of the database (test/helpers/mongo-fake.ts): what readers get is what was written,
// searches, history and reads answer as before, the chain verifies, and no door changes one.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { MongoStore } from '../../../src/store/mongo/index.ts';
import { appendLinks, verifyLedger } from '../../../src/audit/ledger/mongo.ts';
import { renderUnlinked } from '../../../src/audit/render.ts';
import { compactAudit, documentJson } from '../../../src/store/mongo/audit-documents.ts';
import { fhir } from '../../helpers/app.ts';
import { FakeMongo } from '../../helpers/mongo-fake.ts';

async function audited(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-mongo-audit-'));
  const db = new FakeMongo();
  const store = await MongoStore.attach(db, { topology: 'replicaSet' });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on', dataDir: dir }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }] });
  await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2', name: [{ family: 'Nouri' }] });
  await fhir(app, 'GET', '/fhir/Patient/p1');
  await fhir(app, 'GET', '/fhir/Patient?name=Haddad');
  await fhir(app, 'GET', '/fhir/Patient/missing');
  // an event labelled as the sensitive data it read (meta.security)
  app.fhir.audit!.later({ interaction: 'read', action: 'R', status: 200, clientId: 'c', what: 'Observation/o1', patient: 'Patient/p1', sensitive: true });
  await app.fhir.audit!.flush();
  const docs = () => db.collection<Record<string, unknown>>('resources');
  return { app, store, db, docs };
}

t.test('an AuditEvent is kept as its fields, without JSON or a history version, and read back as written', async (t) => {
  const { app, store, docs } = await audited(t);
  const events = (await docs().find({ type: 'AuditEvent' }).toArray()) as Record<string, any>[];
  t.ok(events.length >= 5, `${events.length} events`);
  for (const d of events) {
    t.equal(d.json, null, 'no JSON body');
    t.ok(d.ae && typeof d.ae.at === 'number', 'its fields');
    t.ok(d.idx, 'its search entries');
  }
  const history = await (store as unknown as { historyColl: { find(f: object): { toArray(): Promise<unknown[]> } } }).historyColl.find({ type: 'AuditEvent' }).toArray();
  t.equal(history.length, 0, 'no history document');

  const labelled = (await fhir(app, 'GET', '/fhir/AuditEvent?entity=Observation/o1')).body.entry[0].resource;
  t.ok(labelled.meta.security.length > 0, 'a labelled event keeps its labels');
  t.ok(events.every((d) => d.json === null), 'the labelled one is compact too');
  const read = (await fhir(app, 'GET', '/fhir/AuditEvent?patient=p1&subtype=read&entity=Patient/p1')).body.entry[0].resource;
  t.equal(read.entity[0].what.reference, 'Patient/p1');
  t.equal(read.meta.versionId, '1');
  const byId = await fhir(app, 'GET', `/fhir/AuditEvent/${read.id}`);
  t.same(byId.body, read, 'read by id: the same event');
  const vread = await fhir(app, 'GET', `/fhir/AuditEvent/${read.id}/_history/1`);
  t.same(vread.body, read, 'vread of its one version');
  t.equal((await fhir(app, 'GET', `/fhir/AuditEvent/${read.id}/_history/2`)).status, 404);
  const instance = await fhir(app, 'GET', `/fhir/AuditEvent/${read.id}/_history`);
  t.equal(instance.body.total, 1);
  t.same(instance.body.entry[0].resource, read);
  const missing = (await fhir(app, 'GET', '/fhir/AuditEvent?outcome=4')).body;
  t.ok(missing.total >= 1, 'a failed read is searchable by outcome');
  const search = (await fhir(app, 'GET', '/fhir/AuditEvent?subtype=search-type')).body.entry[0].resource;
  t.equal(Buffer.from(search.entity.find((e: any) => e.query).query, 'base64').toString(), 'name=Haddad', 'the query as sent');

  // every event of the type's history, newest first, across pages
  const seen: string[] = [];
  let page = (await fhir(app, 'GET', '/fhir/AuditEvent/_history?_count=2')).body;
  const total = page.total;
  for (;;) {
    seen.push(...page.entry.map((e: any) => e.resource.id));
    const next = page.link.find((l: any) => l.relation === 'next')?.url;
    if (!next) break;
    page = (await fhir(app, 'GET', next.replace('http://test.local', ''))).body;
  }
  const count = (await fhir(app, 'GET', '/fhir/AuditEvent?_summary=count')).body.total;
  t.equal(total, count, 'type history counts every event');
  t.equal(new Set(seen).size, seen.length, 'no event twice');
  t.ok(seen.length >= count - 2, `paged through ${seen.length} of ${count} (the history's own reads are audited meanwhile)`);
  const system = (await fhir(app, 'GET', '/fhir/_history?_count=100')).body;
  t.ok(system.entry.some((e: any) => e.resource.resourceType === 'AuditEvent'), 'system history lists AuditEvents');
  t.ok(system.entry.some((e: any) => e.resource.resourceType === 'Patient'), 'and the other resources');

  // references to events from other resources, and $meta, answer over the compact documents too
  await fhir(app, 'PUT', '/fhir/Provenance/pv1', { resourceType: 'Provenance', id: 'pv1', target: [{ reference: `AuditEvent/${labelled.id}` }], recorded: '2026-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }] });
  const included = (await fhir(app, 'GET', '/fhir/Provenance?_include=Provenance:target')).body.entry.map((e: any) => `${e.search.mode}:${e.resource.resourceType}/${e.resource.id}`);
  t.same(included, ['match:Provenance/pv1', `include:AuditEvent/${labelled.id}`], '_include of the events a Provenance names');
  t.equal((await fhir(app, 'GET', '/fhir/Provenance?target:AuditEvent.entity=Observation/o1')).body.total, 1, 'a chain to AuditEvent');
  t.equal((await fhir(app, 'GET', '/fhir/Provenance?target:AuditEvent.entity=Patient/p2')).body.total, 0);
  for (const url of ['/fhir/$meta', '/fhir/AuditEvent/$meta']) {
    const meta = (await fhir(app, 'GET', url)).body.parameter[0].valueMeta;
    // system and code: displays are not indexed
    t.same(meta.security, labelled.meta.security.map(({ system, code }: any) => ({ system, code })), `${url}: the events' labels`);
  }

  await app.fhir.audit!.flush();
  const ledger = store.auditLedger();
  t.same(await verifyLedger(store, ledger.links), { events: (await store.scan(['AuditEvent'], 0, 10_000)).length, ok: true }, 'the chain verifies over the rendered events');
});

t.test('no door changes or deletes a compact AuditEvent, on the engine itself', async (t) => {
  const { app, store, docs } = await audited(t);
  const [doc] = (await docs().find({ type: 'AuditEvent' }).toArray()) as Record<string, any>[];
  const before = await store.current('AuditEvent', doc.id);
  const tryWrite = (json: string | null, versionId: number) =>
    store.transaction((tx) => tx.write({ resourceType: 'AuditEvent', id: doc.id, versionId, lastUpdated: new Date().toISOString(), method: json === null ? 'DELETE' : 'PUT', json }));
  const status = (p: Promise<unknown>) => p.then(() => 0, (err: { status?: number }) => err.status);
  t.equal(await status(tryWrite(JSON.stringify({ resourceType: 'AuditEvent', id: doc.id, outcome: '0' }), 2)), 405, 'update');
  t.equal(await status(tryWrite(null, 2)), 405, 'delete');
  t.equal(await status(store.transaction((tx) => tx.rewrite!('AuditEvent', doc.id, 1, '{}'))), 405, '$meta rewrite');
  await t.rejects(tryWrite(before!.json, 1), /changed by another request/, 'a second first version');
  t.same(await store.current('AuditEvent', doc.id), before, 'unchanged');
  // through the API as well (the route refuses before the engine does)
  t.equal((await fhir(app, 'DELETE', `/fhir/AuditEvent/${doc.id}`)).status, 405);
});

t.test('what is compact: the first version of an event this server renders exactly; anything else keeps its JSON', async (t) => {
  const fields = { id: 'e1', login: false, sensitive: true, sub: 'read', action: 'R', at: Date.parse('2026-12-01T10:00:00Z'), outcome: '0', client: 'c', what: 'Patient/p1', purposes: ['http://x|TREAT'] };
  const lastUpdated = '2026-12-01T10:00:00.005Z';
  const json = renderUnlinked(fields, lastUpdated);
  const v = { resourceType: 'AuditEvent', id: 'e1', versionId: 1, lastUpdated, method: 'POST' as const, json };
  const compact = compactAudit(v)!;
  t.ok(compact, 'compact');
  t.equal(documentJson({ id: 'e1', lu: lastUpdated, json: null, ae: compact }), json, 'rendered back character for character');
  const reordered = JSON.stringify({ ...JSON.parse(json), meta: { lastUpdated, versionId: '1' } });
  t.equal(compactAudit({ ...v, json: reordered }), undefined, 'other characters: kept as JSON');
  t.equal(compactAudit({ ...v, json: JSON.stringify({ ...JSON.parse(json), language: 'en' }) }), undefined, 'another field: kept as JSON');
  t.equal(compactAudit({ ...v, versionId: 2 }), undefined, 'a later version');
  t.equal(compactAudit({ ...v, resourceType: 'Patient' }), undefined, 'another type');
  t.equal(compactAudit({ ...v, id: 'e2' }), undefined, 'another id');
});

t.test('AuditEvents written by an older version are made compact at start, and the chain still verifies', async (t) => {
  const { app, store, db, docs } = await audited(t);
  await app.fhir.audit!.flush();
  const history = db.collection<Record<string, unknown>>('history');
  // as an older version stored them: the JSON in `resources` and a `history` version each
  const written = (await docs().find({ type: 'AuditEvent' }).toArray()) as Record<string, any>[];
  for (const d of written) {
    const json = documentJson(d as any)!;
    await docs().updateOne({ _id: d._id }, { $set: { json }, $unset: { ae: '' } });
    await history.insertOne({ _id: `${d._id}/1`, type: 'AuditEvent', id: d.id, vid: 1, lu: d.lu, method: 'POST', json, seq: d.seq });
  }
  // and one whose stored JSON its fields do not render (meta in another key order), linked
  // after the others as its server linked it: kept whole
  const model = JSON.parse(documentJson(written[0] as any)!);
  const lu = new Date().toISOString();
  const oddJson = JSON.stringify({ ...model, id: 'odd-1', meta: { lastUpdated: lu, versionId: '1' } });
  const seq = Math.max(...written.map((d) => d.seq)) + 1;
  await docs().insertOne({ _id: 'AuditEvent/odd-1', type: 'AuditEvent', id: 'odd-1', vid: 1, lu, del: false, seq, rid: seq, json: oddJson });
  await history.insertOne({ _id: 'AuditEvent/odd-1/1', type: 'AuditEvent', id: 'odd-1', vid: 1, lu, method: 'POST', json: oddJson, seq });
  await appendLinks(store.auditLedger().links, [{ id: 'odd-1', json: oddJson }]);
  const odd = { id: 'odd-1' };
  written.push(odd);

  const restarted = await MongoStore.attach(db, { topology: 'replicaSet' });
  t.teardown(() => restarted.close());
  t.equal(restarted.auditMigration?.events, written.length - 1, 'every event but the odd one moved');
  const after = (await docs().find({ type: 'AuditEvent' }).toArray()) as Record<string, any>[];
  t.equal(after.filter((d) => d.ae && d.json === null).length, written.length - 1);
  t.equal((await history.find({ type: 'AuditEvent' }).toArray()).length, 1, 'only the odd event keeps its history version');
  t.equal((await restarted.current('AuditEvent', odd.id))?.json, oddJson, 'the odd one reads as stored');
  for (const d of written.slice(0, -1)) t.equal((await restarted.current('AuditEvent', d.id))?.json, documentJson(d as any), `${d.id} reads as before`);
  const page = await restarted.history({ resourceType: 'AuditEvent', count: 100 });
  t.equal(page.entries.length, written.length, 'type history: each event once');
  t.equal(page.total, written.length);
  t.same(await verifyLedger(restarted, restarted.auditLedger().links), { events: written.length, ok: true }, 'the chain verifies over what readers get');
  t.equal((await MongoStore.attach(db, { topology: 'replicaSet' }).then(async (s) => { const m = s.auditMigration; await s.close(); return m; })), undefined, 'the next start has nothing to move');
});
