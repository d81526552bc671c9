// The compact index of the AuditEvents the server writes (src/store/sqlite/audit-index.ts): each
// arm gives exactly the rows FHIRPath extraction gives, and every AuditEvent search answers the
// same as on the generic sp_* rows — on a store holding both kinds, as a database that existed
// before the table does.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditEvent } from 'fhir/r4.js';
import { buildApp } from '../../../src/app.ts';
import { testConfig } from '../../../src/config.ts';
import { SqliteStore } from '../../../src/store/sqlite/index.ts';
import { PLAN } from '../../../src/store/sqlite/search.ts';
import { AUDIT_ARMS } from '../../../src/store/sqlite/audit-index.ts';
import { extractIndex } from '../../../src/search/extract.ts';
import type { IndexRows } from '../../../src/search/index-rows.ts';
import type { AuditInput, QueuedAudit } from '../../../src/audit/audit.ts';
import { fhir, testApp } from '../../helpers/app.ts';

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
  ...[0, 1, 2, 3].map((i) => ({ resourceType: 'Observation', id: `o${i}`, status: 'final', code: { text: 'x' }, subject: { reference: `Patient/p${i % 3}` } })),
];

async function compactAndGeneric(t: Test) {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-audit-index-'));
  const path = join(dir, 'migfhir.sqlite');
  const store = new SqliteStore({ path });
  // audit off: the searches below are not audited, and AuditEvents can be stored through the API
  const compact = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'off', dataDir: dir }), { store });
  const generic = await testApp({ audit: 'off' });
  t.teardown(async () => {
    await compact.close();
    await generic.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  for (const r of RESOURCES) {
    for (const app of [compact, generic]) t.equal((await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r)).status, 201);
  }
  // the compact store: events the server wrote (one audit_index row each), then events indexed
  // the generic way as in a database from before the table (stored through the API)
  await store.transaction(async () => store.appendAudit(inputs(120)));
  const written = (await store.scan(['AuditEvent'], 0, 1000)).map((r) => JSON.parse(r.json) as AuditEvent);
  const older = inputs(30, 120).map((q, i) => ({ ...written[i], id: `old-${q.id}` }));
  for (const e of older) t.equal((await fhir(compact, 'PUT', `/fhir/AuditEvent/${e.id}`, e)).status, 201);
  // the generic store: the same events in the same order, every one through FHIRPath extraction
  for (const e of [...written, ...older]) t.equal((await fhir(generic, 'PUT', `/fhir/AuditEvent/${e.id}`, e)).status, 201);
  return { compact, generic, store, path, written };
}

type Row = Record<string, string | number | null>;
const COLUMNS: Record<AuditArmTable, string[]> = {
  string: ['norm', 'exact'],
  token: ['system', 'code', 'text', 'type_system', 'type_code'],
  date: ['low', 'high'],
  reference: ['target_type', 'target_id', 'url', 'version', 'identifier_system', 'identifier_value'],
};
type AuditArmTable = (typeof AUDIT_ARMS)[number]['table'];
const FIELDS: Record<string, string> = { type_system: 'typeSystem', type_code: 'typeCode', target_type: 'targetType', target_id: 'targetId', identifier_system: 'identifierSystem', identifier_value: 'identifierValue' };

function normalized(rows: IndexRows): string[] {
  const out: string[] = [];
  for (const table of Object.keys(COLUMNS) as AuditArmTable[]) {
    for (const r of rows[table] as unknown as Record<string, unknown>[]) {
      out.push(JSON.stringify([table, r.param, ...COLUMNS[table].map((c) => r[FIELDS[c] ?? c] ?? null)]));
    }
  }
  for (const table of ['number', 'quantity', 'uri', 'composite'] as const) for (const r of rows[table] ?? []) out.push(JSON.stringify([table, r.param]));
  return out.sort();
}

t.test('the arms give the rows FHIRPath extraction gives, on every event shape', async (t) => {
  const { compact, path, written } = await compactAndGeneric(t);
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  const rid = db.prepare<[string], number>("SELECT rid FROM resource WHERE resource_type = 'AuditEvent' AND id = ?").pluck();
  const generic = db.prepare<[number, number, number, number], number>(['sp_token', 'sp_reference', 'sp_string', 'sp_date'].map((sp) => `(SELECT COUNT(*) FROM ${sp} WHERE rid = ?)`).join(' + ').replace(/^/, 'SELECT ')).pluck();
  const arms = AUDIT_ARMS.map((arm) => {
    const cols = COLUMNS[arm.table].map((c) => arm.cols[c]?.replaceAll('$.', 'a.') ?? 'NULL').join(', ');
    return { arm, stmt: db.prepare<[number], unknown[]>(`SELECT ${cols} FROM audit_index a WHERE a.rid = ?${arm.where ? ` AND ${arm.where.replaceAll('$.', 'a.')}` : ''}`).raw() };
  });
  for (const event of written) {
    const r = rid.get(event.id!)!;
    const fromArms = arms.flatMap(({ arm, stmt }) => stmt.all(r).map((values) => JSON.stringify([arm.table, arm.key, ...values]))).sort();
    t.same(fromArms, normalized(extractIndex(event, compact.fhir.search)), `${event.id} ${event.subtype?.[0].code} ${event.outcome}`);
    t.equal(generic.get(r, r, r, r), 0, 'no generic rows');
  }
});

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
];

/** the queries that match nothing (on either store) */
const EMPTY = new Set(['altid:missing=true', 'altid:text=c', 'entity:identifier=x|y', 'patient:missing=true', 'subtype=http://hl7.org/fhir/restful-interaction|110122'].map((q) => `AuditEvent?${q}`));

async function answer(app: Awaited<ReturnType<typeof testApp>>, url: string) {
  const res = await fhir(app, 'GET', `/fhir/${url.includes('?') ? url : `${url}?`}${url.includes('?') ? '&' : ''}_total=accurate`);
  return { status: res.status, total: res.body?.total, entries: (res.body?.entry ?? []).map((e: any) => `${e.search?.mode}:${e.resource.resourceType}/${e.resource.id}`) };
}

t.test('every AuditEvent search answers the same on the compact index as on the generic rows', async (t) => {
  const { compact, generic } = await compactAndGeneric(t);
  const urls = [...QUERIES.map((q) => `AuditEvent?${q}`), ...OTHER];
  for (const url of urls) {
    const [a, b] = [await answer(compact, url), await answer(generic, url)];
    t.equal(a.status, 200, url);
    t.same(a, b, url);
    t.equal(a.total === 0, EMPTY.has(url), `${url}: ${a.total} found`);
  }
  const p1 = (q: QueuedAudit) => q.what === 'Patient/p1' || q.patient === 'Patient/p1';
  const events = inputs(120);
  t.equal((await answer(compact, 'AuditEvent?patient=p1')).total, events.filter(p1).length + events.slice(0, 30).filter(p1).length, 'compact and older events together');
  // _has tested per candidate (the plan chosen for an unselective _has) answers alike
  const saved = PLAN.semiJoinFrom;
  PLAN.semiJoinFrom = 1;
  t.teardown(() => {
    PLAN.semiJoinFrom = saved;
  });
  for (const url of OTHER.filter((u) => u.includes('_has'))) t.same(await answer(compact, url), await answer(generic, url), `${url} (semi-join)`);
});

t.test('$reindex replaces an event\'s audit_index row with generic rows; it is found once, as before', async (t) => {
  const { compact, path } = await compactAndGeneric(t);
  const before = await answer(compact, 'AuditEvent?patient=p0&_sort=-date');
  await compact.fhir.repo.reindex([{ resourceType: 'AuditEvent', id: 'ae-0000' }, { resourceType: 'AuditEvent', id: 'ae-0003' }]);
  t.same(await answer(compact, 'AuditEvent?patient=p0&_sort=-date'), before);
  const db = new Database(path, { readonly: true });
  t.teardown(() => db.close());
  t.equal(db.prepare("SELECT COUNT(*) FROM audit_index WHERE rid IN (SELECT rid FROM resource WHERE id IN ('ae-0000', 'ae-0003'))").pluck().get(), 0);
});

t.test('searches on the trail use the audit_index indexes, never a scan of it', async (t) => {
  const { compact, store } = await compactAndGeneric(t);
  const plan = (qs: string) => {
    const q: Record<string, string[]> = {};
    for (const [k, v] of new URLSearchParams(qs)) (q[k] ??= []).push(v);
    const parsed = compact.fhir.searchParser.parse({ types: ['AuditEvent'], query: q, baseUrl: 'http://test.local/fhir', strict: true, count: { default: 20, max: 1000 } });
    return store.explain(parsed.query).join('\n');
  };
  const cases: [string, RegExp[]][] = [
    ['patient=Patient/p1', [/audit_index_what \(what_id=\? AND what_type=\?\)/, /audit_index_patient \(patient_id=\? AND patient_type=\?\)/]],
    ['altid=c1', [/audit_index_client \(client=\?\)/]],
    ['agent:identifier=https://migfhir.org/fhir/sid/client|c1', [/audit_index_client \(client=\?\)/]],
    ['date=ge2026-01-03&date=lt2026-01-04', [/audit_index_(low|high) \((low<|high>)\?\)/]],
    ['patient=p1&_sort=-date', [/audit_index_what/, /SEARCH o\d+ USING INTEGER PRIMARY KEY \(rowid=\?\)/]],
  ];
  for (const [qs, uses] of cases) {
    const p = plan(qs);
    for (const u of uses) t.match(p, u, qs);
    t.notMatch(p, /SCAN [a-z]\d+ USING (COVERING )?INDEX audit_index_(client|what|patient)|AUTOMATIC|MATERIALIZE/, `${qs}: no scan of the trail`);
  }
});
