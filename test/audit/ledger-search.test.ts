// The audit ledger's own search (src/store/sqlite/audit-search.ts) answers every AuditEvent
// search as the generic index answers it over the same events stored as resources: a store
// whose events were written the old way (generic rows and audit_index) and then moved into the
// ledger at start-up (src/store/sqlite/audit-migrate.ts), then more appended to the ledger.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from 'fhir/r4.js';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { PLAN } from '../../src/store/sqlite/search.ts';
import Database from 'better-sqlite3';
import { GENESIS, verifyChain, type AuditInput, type QueuedAudit } from '../../src/audit/audit.ts';
import { storedEvent } from '../../src/audit/render.ts';
import { fhir } from '../helpers/app.ts';

const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const CLIENTS = ['c0', 'c1', 'c2', undefined];
const INTERACTIONS: [string, AuditInput['action'], number][] = [
  ['read', 'R', 200], ['vread', 'R', 200], ['read', 'R', 404], ['search-type', 'R', 200], ['search-system', 'R', 403],
  ['create', 'C', 201], ['update', 'U', 200], ['delete', 'D', 204], ['operation', 'E', 500], ['transaction', 'E', 200],
];

/** every shape auditEvent() makes: with and without client, address, resource, patient, query,
 * purpose; authentication events (kind login, refused or aggregated) among them */
function inputs(n: number, offset = 0): QueuedAudit[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    if (i % 11 === 10) {
      return {
        kind: 'login', interaction: 'login', action: 'E', status: i % 2 ? 401 : 429, clientId: CLIENTS[i % CLIENTS.length], address: '10.0.0.1', description: `refused ${i}`,
        ...(i % 2 ? {} : { period: { start: START + i * 3_600_000 - 60_000, end: START + i * 3_600_000 } }),
        id: `ae-${String(i).padStart(4, '0')}`, at: START + i * 3_600_000,
      };
    }
    const [interaction, action, status] = INTERACTIONS[i % INTERACTIONS.length];
    const what = i % 5 === 4 ? undefined : i % 3 ? `Observation/o${i % 4}` : `Patient/p${i % 3}`;
    const patient = i % 7 === 6 ? undefined : what?.startsWith('Patient/') ? what : `Patient/p${i % 3}`;
    return {
      interaction, action, status,
      clientId: CLIENTS[i % CLIENTS.length],
      ...(i % 6 === 5 ? {} : { address: i % 2 ? '127.0.0.1' : '::1' }),
      ...(what && !interaction.startsWith('search') ? { what } : {}),
      ...(patient ? { patient } : {}),
      ...(interaction.startsWith('search') ? { query: `patient=p${i % 3}&_count=${i}` } : {}),
      ...(i % 4 === 1 ? { purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'] } : {}),
      ...(i % 9 === 4 ? { sensitive: true } : {}),
      ...(status >= 400 ? { description: `failed ${i}` } : {}),
      id: `ae-${String(i).padStart(4, '0')}`,
      at: START + i * 3_600_000 + (i % 3) * 1234,
    };
  });
}

const RESOURCES = [
  { resourceType: 'Patient', id: 'p0', name: [{ family: 'Haddad' }], birthDate: '1990' },
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Osei' }], birthDate: '1985-04-02' },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Haddad' }], birthDate: '2001' },
  // resources that name events: Provenance.target (chains, includes and _has through them)
  { resourceType: 'Provenance', id: 'pv1', target: [{ reference: 'AuditEvent/ae-0003' }, { reference: 'AuditEvent/ae-0085' }], recorded: '2026-01-01T00:00:00Z', agent: [{ who: { display: 'a' } }] },
  { resourceType: 'Provenance', id: 'pv2', target: [{ reference: 'Patient/p0' }, { reference: 'AuditEvent/ae-0090' }], recorded: '2026-01-02T00:00:00Z', agent: [{ who: { display: 'b' } }] },
  ...[0, 1, 2, 3].map((i) => ({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/p${i % 3}` } })),
];


/** Writes `events` as the generic trail of versions before the ledger did: a resource_version
 * row (the chained JSON), a resource row and an audit_index row each. */
function writeGenericTrail(path: string, events: QueuedAudit[]) {
  const db = new Database(path);
  db.exec('CREATE TABLE IF NOT EXISTS audit_index (rid INTEGER PRIMARY KEY, client TEXT); CREATE TABLE IF NOT EXISTS audit_head (one INTEGER PRIMARY KEY)');
  let previous = GENESIS;
  const version = db.prepare("INSERT INTO resource_version (resource_type, id, version_id, last_updated, method, content) VALUES ('AuditEvent', ?, 1, ?, 'POST', ?)");
  const resource = db.prepare("INSERT INTO resource (resource_type, id, seq, last_updated, deleted) VALUES ('AuditEvent', ?, ?, ?, 0)");
  const index = db.prepare('INSERT INTO audit_index (rid, client) VALUES (?, ?)');
  events.forEach((e, i) => {
    const lastUpdated = new Date(Date.UTC(2026, 5, 1) + i).toISOString();
    const { json, hash } = storedEvent(previous, e, lastUpdated);
    const seq = version.run(e.id, lastUpdated, json).lastInsertRowid;
    index.run(resource.run(e.id, seq, lastUpdated).lastInsertRowid, e.clientId ?? 'anonymous');
    previous = hash;
  });
  db.close();
}

async function ledgerAndGeneric(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-ledger-'));
  const path = join(dir, 'migfhir.sqlite');
  // a store of an older version: events as generic rows, then some stored through the API (audit off)
  const old = new SqliteStore({ path, auditLedger: false });
  const oldApp = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'off', dataDir: dir }), { store: old });
  for (const r of RESOURCES) t.equal((await fhir(oldApp, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status, 201);
  writeGenericTrail(path, inputs(80));
  const first = (await old.scan(['AuditEvent'], 0, 1000)).map((r) => JSON.parse(r.json) as AuditEvent);
  const older = inputs(30, 120).map((q, i) => ({ ...first[i], id: `old-${q.id}` }));
  // one of another shape: a tag and a profile the ledger's columns do not render (kept as its JSON)
  older[2] = { ...older[2], meta: { ...older[2].meta, tag: [{ system: 'http://example.org/tags', code: 'archived' }], profile: ['http://example.org/StructureDefinition/ae'] } };
  for (const e of older) t.equal((await fhir(oldApp, 'PUT', `/fhir/AuditEvent/${e.id}`, e)).status, 201);
  const stored = (await old.scan(['AuditEvent'], 0, 1000)).map((r) => r.json);
  await oldApp.close();
  await old.close();
  // the same database opened with the ledger: the events move into it; then more are appended
  const store = new SqliteStore({ path, auditLedger: true });
  const ledger = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'off', dataDir: dir }), { store });
  await store.transaction(async () => store.appendAudit(inputs(40, 80)));
  // the oracle: the same events as resources of the general index (FHIRPath extraction)
  const genericStore = new SqliteStore({ path: ':memory:', auditLedger: false });
  const generic = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'off' }), { store: genericStore });
  generic.addHook('onClose', async () => genericStore.close());
  t.teardown(async () => {
    await ledger.close();
    await generic.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const r of RESOURCES) t.equal((await fhir(generic, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status, 201);
  const all = (await store.scan(['AuditEvent'], 0, 1000)).map((r) => JSON.parse(r.json) as AuditEvent);
  for (const e of all) t.equal((await fhir(generic, 'PUT', `/fhir/AuditEvent/${e.id}`, e)).status, 201);
  return { ledger, generic, store, path, stored, all };
}

const QUERIES = [
  'action=R', 'action=C,E', 'action:not=R', 'address=127.0.0.1', 'address:exact=::1', 'address:contains=0.0', 'address:missing=true',
  'agent:identifier=https://migfhir.org/fhir/sid/client|c1', 'agent:identifier=c2', 'agent:missing=false',
  'altid=c0', 'altid=anonymous', 'altid:missing=true', 'altid:text=c',
  'date=2026-01-02', 'date=ge2026-01-04', 'date=lt2026-01-02T05:00:00Z', 'date=ge2026-01-01&date=lt2026-01-02', 'date=sa2026-01-03', 'date=eb2026-01-02', 'date=ap2026-01-03', 'date=2026-01-01T01:00:01.234Z',
  'entity=Patient/p1', 'entity=Observation/o2', 'entity=o3', 'entity:Observation=o1', 'entity:missing=true', 'entity:identifier=x|y',
  'entity-role=24', 'entity-role=http://terminology.hl7.org/CodeSystem/object-role|1', 'entity-role:text=quer', 'entity-role:missing=true',
  'entity-type=1', 'entity-type:not=2', 'entity-type:text=system', 'entity-type=http://terminology.hl7.org/CodeSystem/audit-entity-type|2',
  'outcome=0', 'outcome=4,8', 'outcome:not=0',
  'patient=p1', 'patient=Patient/p2', 'patient:Patient=p0', 'patient:identifier=https://migfhir.org/fhir/sid/client|anonymous', 'patient:missing=true',
  'patient.name=haddad', 'entity:Patient.birthdate=1990', 'entity:Observation.subject=Patient/p1', 'patient:Patient.name:exact=Osei',
  'subtype=read', 'subtype=http://hl7.org/fhir/restful-interaction|search-type', 'subtype:not=read', 'subtype=http://hl7.org/fhir/restful-interaction|',
  'type=rest', 'type:text=restful', 'type=http://terminology.hl7.org/CodeSystem/audit-event-type|rest', 'type:not=rest',
  'type=110114', 'type=http://dicom.nema.org/resources/ontology/DCM|110114', 'type:text=authentication', 'type:not=110114', 'subtype=110122', 'subtype=http://dicom.nema.org/resources/ontology/DCM|110122', 'subtype=http://hl7.org/fhir/restful-interaction|110122',
  'patient=p1&subtype=read&altid=c1,c2', 'address:missing=false&outcome=0&date=ge2026-01-03',
  '_sort=-date&_count=7', '_sort=altid,date', '_sort=address,-date', '_sort=entity,date', '_sort=-patient,_id', '_sort=-subtype,-date&_count=10', '_sort=-outcome,date&patient=p2',
  '_include=AuditEvent:entity&patient=p1', '_include=AuditEvent:patient:Patient&altid=c2', '_include=*&subtype=read&_count=5', '_include=AuditEvent:entity:Observation&_include:iterate=Observation:subject',
  '_id=ae-0003,old-ae-0121', '_summary=count&altid=c1',
];
const OTHER = [
  'Patient?_revinclude=AuditEvent:patient&_id=p1', 'Patient?_revinclude=AuditEvent:entity', 'Patient?_revinclude=*&_id=p2', 'Observation?_revinclude=AuditEvent:entity&_id=o1',
  'Patient?_has:AuditEvent:patient:altid=c1', 'Patient?_has:AuditEvent:entity:subtype=read', 'Observation?_has:AuditEvent:entity:outcome=8',
  'Patient/p1/AuditEvent?_sort=date', 'Patient/p2/AuditEvent?altid=c0', '?_type=AuditEvent,Observation&patient=p1&_sort=_id',
  'Provenance?target:AuditEvent.altid=c1', 'Provenance?target:AuditEvent.outcome=0', 'Provenance?target.altid=c2', 'Provenance?target:AuditEvent.patient.name=haddad',
  'Provenance?_include=Provenance:target', 'Provenance?_include=Provenance:target:AuditEvent&_id=pv2', 'Provenance?_include=*', 'Provenance?_include=Provenance:target:AuditEvent&_include:iterate=AuditEvent:patient',
  'Patient?_has:Provenance:target:target:AuditEvent.altid=c2', 'AuditEvent?_revinclude=Provenance:target&_id=ae-0003,ae-0090',
];

/** the queries that match nothing (on either store) */
const EMPTY = new Set(['altid:missing=true', 'altid:text=c', 'entity:identifier=x|y', 'patient:missing=true', 'subtype=http://hl7.org/fhir/restful-interaction|110122'].map((q) => `AuditEvent?${q}`));

async function answer(app: Awaited<ReturnType<typeof buildApp>>, url: string) {
  const res = await fhir(app, 'GET', `/fhir/${url.includes('?') ? url : `${url}?`}${url.includes('?') ? '&' : ''}_total=accurate`);
  const entries: string[] = (res.body?.entry ?? []).map((e: any) => `${e.search?.mode}:${e.resource.resourceType}/${e.resource.id}`);
  // matches in the search's order; included resources have none (SQL's DISTINCT … UNION gives the plan's)
  return { status: res.status, total: res.body?.total, entries: [...entries.filter((e) => !e.startsWith('include:')), ...entries.filter((e) => e.startsWith('include:')).sort()] };
}


t.test('every AuditEvent search answers on the ledger as on the generic index', async (t) => {
  const { ledger, generic } = await ledgerAndGeneric(t);
  const urls = [...QUERIES.map((q) => `AuditEvent?${q}`), ...OTHER];
  for (const url of urls) {
    const [a, b] = [await answer(ledger, url), await answer(generic, url)];
    t.equal(a.status, 200, url);
    t.same(a, b, url);
    t.equal(a.total === 0, EMPTY.has(url), `${url}: ${a.total} found`);
  }
  const saved = PLAN.semiJoinFrom;
  PLAN.semiJoinFrom = 1;
  t.teardown(() => {
    PLAN.semiJoinFrom = saved;
  });
  for (const url of OTHER.filter((u) => u.includes('_has'))) t.same(await answer(ledger, url), await answer(generic, url), `${url} (semi-join)`);
});

t.test('$meta on the type and the system lists what the ledger\'s events show', async (t) => {
  const { ledger, generic } = await ledgerAndGeneric(t);
  for (const url of ['/fhir/$meta', '/fhir/AuditEvent/$meta', '/fhir/Patient/$meta']) {
    const [a, b] = [await fhir(ledger, 'GET', url), await fhir(generic, 'GET', url)];
    t.equal(a.status, 200, url);
    t.same(a.body, b.body, url);
  }
  const meta = (await fhir(ledger, 'GET', '/fhir/AuditEvent/$meta')).body.parameter[0].valueMeta;
  t.ok(meta.security?.length, 'the migration-data labels of events about sensitive data');
  t.same(meta.tag, [{ system: 'http://example.org/tags', code: 'archived' }], 'a migrated event\'s own tag');
  t.same(meta.profile, ['http://example.org/StructureDefinition/ae']);
});

t.test('migrated events read back as they were stored, and the chain still verifies', async (t) => {
  const { ledger, store, stored, path } = await ledgerAndGeneric(t);
  const after = (await store.scan(['AuditEvent'], 0, 1000)).map((r) => r.json);
  t.same(after.slice(0, stored.length), stored, 'the same JSON, in the same order');
  for (const json of stored.slice(0, 3)) {
    const id = (JSON.parse(json) as AuditEvent).id!;
    const read = await fhir(ledger, 'GET', `/fhir/AuditEvent/${id}`);
    t.equal(read.status, 200);
    t.same(read.body, JSON.parse(json));
    t.equal((await fhir(ledger, 'GET', `/fhir/AuditEvent/${id}/_history/1`)).status, 200);
    t.equal((await fhir(ledger, 'GET', `/fhir/AuditEvent/${id}/_history/2`)).status, 404);
    t.equal((await fhir(ledger, 'GET', `/fhir/AuditEvent/${id}/_history`)).body.total, 1);
  }
  // the events the API stored are not a chain (copies with other ids): the first 80 are
  const report = await verifyChain(store);
  t.equal(report.ok, false);
  t.equal(report.events, 81, 'the chain holds up to the first copy stored through the API');
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare("SELECT name FROM sqlite_master WHERE name IN ('audit_index', 'audit_head')").all(), [], 'the generic trail\'s tables are gone');
  t.equal(db.prepare("SELECT COUNT(*) FROM resource_version WHERE resource_type = 'AuditEvent'").pluck().get(), 0, 'and its rows');
  t.equal((await fhir(ledger, 'PUT', `/fhir/AuditEvent/${(JSON.parse(stored[0]) as AuditEvent).id}`, { ...JSON.parse(stored[0]), outcome: '8' })).status, 405, 'no write reaches the ledger, audit off included');
});

t.test('paging through next and previous links answers alike, events with other types included', async (t) => {
  const { ledger, generic } = await ledgerAndGeneric(t);
  const walk = async (app: typeof ledger, url: string) => {
    const seen: string[][] = [];
    let res = await fhir(app, 'GET', `/fhir/${url}`);
    for (let i = 0; i < 40 && res.status === 200; i++) {
      seen.push((res.body.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`));
      const next = res.body.link?.find((l: any) => l.relation === 'next')?.url;
      if (!next) break;
      res = await fhir(app, 'GET', next.replace('http://test.local', ''));
    }
    // and back from the last page
    const back: string[][] = [];
    for (let i = 0; i < 40 && res.status === 200; i++) {
      const previous = res.body.link?.find((l: any) => l.relation === 'previous')?.url;
      if (!previous) break;
      res = await fhir(app, 'GET', previous.replace('http://test.local', ''));
      back.push((res.body.entry ?? []).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`));
    }
    return { seen, back };
  };
  for (const url of ['AuditEvent?patient=p1&_count=7&_sort=-date', 'AuditEvent?_count=13', 'AuditEvent?_sort=altid,-_lastUpdated&_count=11', '?_type=AuditEvent,Observation&patient=p1&_sort=_id&_count=5', '?_type=AuditEvent,Patient&_sort=-_lastUpdated&_count=9']) {
    const [a, b] = [await walk(ledger, url), await walk(generic, url)];
    t.ok(a.seen.length > 1, `${url}: ${a.seen.length} pages`);
    t.same(a.seen.flat().sort(), b.seen.flat().sort(), `${url}: the same resources`);
    if (!url.startsWith('?')) t.same(a, b, `${url}: the same pages`);
    t.equal(new Set(a.seen.flat()).size, a.seen.flat().length, `${url}: none twice`);
    t.same(a.back.flat().sort(), a.seen.flat().slice(0, a.back.flat().length).sort(), `${url}: back to the first page`);
  }
});

t.test('searches on the trail use the ledger\'s indexes, never a scan of it', async (t) => {
  const { ledger, store, path } = await ledgerAndGeneric(t);
  // a trail of some size, with the planner's statistics of it (as `PRAGMA optimize` keeps them)
  const more: QueuedAudit[][] = Array.from({ length: 20 }, (_, k) => Array.from({ length: 500 }, (_, j) => {
    const i = k * 500 + j;
    return { interaction: 'read', action: 'R', status: 200, clientId: `client-${i % 50}`, what: `Observation/m${i % 500}`, patient: `Patient/m${i % 500}`, id: `more-${i}`, at: Date.UTC(2027, 0, 1) + i * 3_600_000 };
  }));
  for (const batch of more) await store.transaction(async () => store.appendAudit(batch));
  const db = new Database(path);
  db.exec('ANALYZE');
  db.close();
  // a connection that reads those statistics (as after a restart)
  const reopened = new SqliteStore({ path });
  t.teardown(() => reopened.close());
  const plan = (qs: string) => {
    const q: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(qs)) (q[k] ??= []).push(v);
    const parsed = ledger.fhir.searchParser.parse({ types: ['AuditEvent'], query: q, baseUrl: 'http://test.local/fhir', strict: true, count: { default: 20, max: 1000 } });
    return reopened.explain(parsed.query).join('\n');
  };
  const cases: [string, RegExp][] = [
    ['patient=Patient/p1', /audit_ledger_what \(what_id=\? AND what_type=\?\)[^]*audit_ledger_patient \(patient_id=\? AND patient_type=\?\)|audit_ledger_patient[^]*audit_ledger_what/],
    ['entity=Observation/o2', /audit_ledger_what \(what_id=\? AND what_type=\?\)/],
    ['altid=c1', /audit_ledger_client \(client=\?\)/],
    ['agent:identifier=https://migfhir.org/fhir/sid/client|c1', /audit_ledger_client \(client=\?\)/],
    ['date=ge2026-01-03&date=lt2026-01-04', /audit_ledger_at \(at>\? AND at<\?\)|audit_ledger_at \(at[<>]/],
    ['_id=ae-0003', /audit_ledger_id \(id=\?\)/],
  ];
  for (const [qs, uses] of cases) {
    const p = plan(qs);
    t.match(p, uses, `${qs}\n${p}`);
    t.notMatch(p, /SCAN l\b|SCAN audit_ledger/, `${qs}: no scan of the trail\n${p}`);
  }
});
