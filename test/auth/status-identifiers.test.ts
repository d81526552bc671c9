// Identifiers whose presence reveals a migration status (src/auth/sensitive-identifiers.ts: an
// LMA card, a UNHCR registration …) through every door, for a client with the migration-data
// scope (Y) and one without (X): reads, history, includes, $everything and $match show X no
// such system or value; searches by X answer as over the views (compared with a store that
// holds only what X can read), on both engines; X's writes keep what it cannot see; conditional
// interactions that only a hidden identifier would decide are refused; and data stored before
// identifiers were marked is labelled and reindexed at start-up.
import t from 'tap';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { compareWithViews, idsOf, VIEW_ENGINES, type ViewSearch } from '../helpers/view-engines.ts';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { isStatusRevealingIdentifier } from '../../src/auth/sensitive-identifiers.ts';

const LMA = 'https://migfhir.org/fhir/sid/se-lma';
const UNHCR = 'https://migfhir.org/fhir/sid/unhcr-progres';
const PNR = 'urn:oid:1.2.752.129.2.1.3.1';
const PRC = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PRC' }] };
const SCOPES = 'system/*.cruds migfhir/migration-data.read';
/** the hidden values: none may reach X */
const SECRETS = [LMA, UNHCR, '12-345678', '87-654321', 'UNHCR-555', '2.16.578.1.12.4.1.4.5'];

const RESOURCES = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Omar'] }], birthDate: '1990-01-01', identifier: [{ system: PNR, value: '199001011234' }, { system: LMA, value: '12-345678', type: PRC }] },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Ahmadi', given: ['Sara'] }], birthDate: '1985-05-05', identifier: [{ system: LMA, value: '87-654321', type: PRC }] },
  { resourceType: 'Patient', id: 'p3', name: [{ family: 'Nowak', given: ['Anna'] }], identifier: [{ system: PNR, value: '197001011111' }] },
  // the DUF number by its OID, in a contained resource
  { resourceType: 'Patient', id: 'p4', name: [{ family: 'Berg' }], contained: [{ resourceType: 'RelatedPerson', id: 'rp', patient: { reference: '#' }, identifier: [{ system: 'urn:oid:2.16.578.1.12.4.1.4.5', value: '777' }] }] },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1', identifier: { system: LMA, value: '12-345678' } } },
  { resourceType: 'Encounter', id: 'e2', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p3' } },
  // a reference by identifier only: X sees no subject
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { identifier: { system: UNHCR, value: 'UNHCR-555' } } },
  { resourceType: 'Coverage', id: 'c1', status: 'active', beneficiary: { reference: 'Patient/p2' }, payor: [{ display: 'Migrationsverket' }], identifier: [{ system: LMA, value: '87-654321' }] },
];

/** Searches X runs; each answers over the views. `ordered`: the order counts. */
const SEARCHES: ViewSearch[] = [
  { q: `Patient?identifier=${LMA}|12-345678`, want: [] },
  { q: `Patient?identifier=${LMA}|`, want: [] },
  { q: 'Patient?identifier=12-345678', want: [] },
  { q: `Patient?identifier=${PNR}|199001011234`, want: ['p1'] },
  { q: 'Patient?identifier:missing=true', want: ['p2', 'p4'] },
  { q: 'Patient?identifier:missing=false', want: ['p1', 'p3'] },
  { q: `Patient?identifier:not=${LMA}|12-345678`, want: ['p1', 'p2', 'p3', 'p4'] },
  { q: 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|PRC|12-345678', want: [] },
  { q: 'Patient?_sort=identifier', ordered: true },
  { q: 'Patient?_sort=-identifier', ordered: true },
  { q: `Encounter?subject:identifier=${LMA}|12-345678`, want: [] },
  { q: 'Encounter?subject=Patient/p1', want: ['e1'] },
  { q: `Encounter?subject.identifier=${LMA}|12-345678`, want: [] },
  { q: `Encounter?subject:Patient.identifier=${PNR}|199001011234`, want: ['e1'] },
  { q: `Patient?_has:Encounter:subject:subject:identifier=${LMA}|12-345678`, want: [] },
  { q: `Patient?_has:Coverage:beneficiary:identifier=${LMA}|87-654321`, want: [] },
  { q: `Observation?subject:identifier=${UNHCR}|UNHCR-555`, want: [] },
  { q: 'Observation?subject:missing=true', want: ['o1'] },
  { q: `Coverage?identifier=${LMA}|87-654321`, want: [] },
  { q: 'Coverage?identifier:missing=true', want: ['c1'] },
  { q: 'RelatedPerson?identifier=777', want: [] },
  { q: 'Patient?_id=p1,p2&_revinclude=Encounter:subject&_revinclude=Coverage:beneficiary', want: ['c1', 'e1', 'p1', 'p2'] },
  { q: 'Encounter?_include=Encounter:subject', want: ['e1', 'e2', 'p1', 'p3'] },
  { q: `Patient?identifier=${LMA}|12-345678&_total=accurate&_count=0`, want: [] },
];

for (const [engine, storeOf] of VIEW_ENGINES) {
  t.test(`${engine}: a client without the scope reads and searches its view`, async (t) => {
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' }, { store: storeOf() });
    const Y = await bearer(SCOPES);
    const X = await bearer('system/*.cruds');
    for (const r of RESOURCES) t.equal((await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r, Y)).status, 201, `${r.resourceType}/${r.id} stored`);

    // every read door: the resource is labelled; X sees neither the system nor the value
    const doors = [
      'Patient/p1', 'Patient/p2', 'Patient/p4', 'Encounter/e1', 'Observation/o1', 'Coverage/c1', 'Patient/p1/_history', 'Patient/p1/_history/1', '_history',
      'Patient?_id=p1&_revinclude=Encounter:subject', 'Patient/p1/$everything', 'Patient/p2/$everything', 'Encounter?_include=Encounter:subject',
      'Patient?_id=p1&_format=json&_pretty=true', 'Patient/p1/$summary', 'Patient/p1/$hl7v2-export', 'Patient/p1/$export-national?adapter=se',
      'Patient/p2/$export-national?adapter=se',
    ];
    for (const door of doors) {
      const x = await fhir(app, 'GET', `/fhir/${door}`, undefined, X);
      t.equal(x.status, 200, `${door}: 200 for X`);
      for (const s of SECRETS) t.notOk(x.raw.includes(s), `${door}: X does not see ${s}`);
      const y = await fhir(app, 'GET', `/fhir/${door}`, undefined, Y);
      t.equal(y.status, 200, `${door}: 200 for Y`);
    }
    const y1 = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, Y)).body;
    t.ok(y1.identifier.some((i: any) => i.system === LMA), 'Y sees the LMA number');
    t.ok(y1.meta.security.some((s: any) => s.code === 'migration'), 'the patient is labelled');
    const x1read = await fhir(app, 'GET', '/fhir/Patient/p1', undefined, X);
    const x1 = x1read.body;
    t.same(x1.identifier, [{ system: PNR, value: '199001011234' }], 'X keeps the personnummer');
    t.notOk(x1.meta.security, 'X sees no label on the patient');
    t.match(x1read.headers['x-sensitive-data'], /^withheld/, 'and is told, as on every answer, that data is withheld');
    const o1 = (await fhir(app, 'GET', '/fhir/Observation/o1', undefined, X)).body;
    t.notOk('subject' in o1, 'a reference that was only a status-revealing identifier goes whole');

    // a store holding only X's views answers X's searches the same; the self link repeats the
    // client's own query, the entries are what the server tells
    await compareWithViews(t, app, X, RESOURCES, SEARCHES, (q, body) => {
      const told = JSON.stringify(body.entry ?? []);
      for (const s of SECRETS) t.notOk(told.includes(s), `${q}: no ${s} in the entries`);
    });
    // Y searches the stored resources
    t.same(idsOf((await fhir(app, 'GET', `/fhir/Patient?identifier=${LMA}|12-345678`, undefined, Y)).body), ['p1'], 'Y finds the LMA number');
    t.same(idsOf((await fhir(app, 'GET', 'Patient?identifier:missing=true'.replace(/^/, '/fhir/'), undefined, Y)).body).sort(), ['p4'], 'over the stored resources, only p4 lacks an identifier');
    t.same(idsOf((await fhir(app, 'GET', `/fhir/Observation?subject:identifier=${UNHCR}|UNHCR-555`, undefined, Y)).body), ['o1']);
    t.same(idsOf((await fhir(app, 'GET', `/fhir/Encounter?subject.identifier=${LMA}|12-345678`, undefined, Y)).body), ['e1']);
  });
}

t.test('writes by a client without the scope keep the identifiers it cannot see', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  const [p1, , p3] = RESOURCES as any[];
  await fhir(app, 'PUT', '/fhir/Patient/p1', p1, Y);
  await fhir(app, 'PUT', '/fhir/Patient/p3', p3, Y);
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, X)).body;
  const same = await fhir(app, 'PUT', '/fhir/Patient/p1', seen, X);
  t.equal(same.status, 200);
  t.equal(same.body.meta.versionId, '1', 'writing back what it read is no change');
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', { ...seen, active: true }, X)).status, 200);
  const patch = [{ op: 'replace', path: '/identifier', value: [{ system: PNR, value: '199001011234' }] }];
  t.equal((await fhir(app, 'PATCH', '/fhir/Patient/p1', JSON.stringify(patch), { ...X, 'content-type': 'application/json-patch+json' })).status, 200);
  const after = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, Y)).body;
  t.ok(after.active, 'the update was written');
  t.same(after.identifier.filter(isStatusRevealingIdentifier), [{ system: LMA, value: '12-345678', type: PRC }], 'the LMA number survives a PUT and a PATCH by X');
  // X registers an LMA card it was shown: accepted, labelled, and hidden from X from then on
  const added = await fhir(app, 'PUT', '/fhir/Patient/p3', { ...p3, identifier: [...p3.identifier, { system: LMA, value: '55-555555' }] }, X);
  t.equal(added.status, 200);
  t.notOk(added.raw.includes('55-555555'), 'the answer is X\'s view');
  const p3y = (await fhir(app, 'GET', '/fhir/Patient/p3', undefined, Y)).body;
  t.ok(p3y.identifier.some((i: any) => i.value === '55-555555'), 'X\'s own LMA number is stored');
  t.ok(p3y.meta.security.some((s: any) => s.code === 'migration'), 'and the patient labelled');
});

t.test('conditional interactions that only a hidden identifier decides are refused', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  await fhir(app, 'PUT', '/fhir/Patient/p1', RESOURCES[0], Y);
  const lma = `identifier=${encodeURIComponent(`${LMA}|12-345678`)}`;
  const newcomer = { resourceType: 'Patient', name: [{ family: 'Haddad' }] };
  const create = await fhir(app, 'POST', '/fhir/Patient', newcomer, { ...X, 'if-none-exist': lma });
  t.equal(create.status, 403, 'If-None-Exist on a hidden number: 403, not a duplicate');
  t.match(create.body.issue[0].diagnostics, /migration-data scope/);
  for (const s of SECRETS) t.notOk(create.raw.includes(s), `no ${s} in the refusal`);
  const unknown = `identifier=${encodeURIComponent(`${LMA}|00-000000`)}`;
  t.equal((await fhir(app, 'POST', '/fhir/Patient', newcomer, { ...X, 'if-none-exist': unknown })).status, 201, 'a number nobody has: created as over the view');
  t.equal((await fhir(app, 'PUT', `/fhir/Patient?${lma}`, newcomer, X)).status, 403, 'conditional update');
  t.equal((await fhir(app, 'DELETE', `/fhir/Patient?${lma}`, undefined, X)).status, 403, 'conditional delete');
  const pnr = `identifier=${encodeURIComponent(`${PNR}|199001011234`)}`;
  const found = await fhir(app, 'POST', '/fhir/Patient', newcomer, { ...X, 'if-none-exist': pnr });
  t.equal(found.status, 200, 'a visible identifier still finds the patient');
  const bundle = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [{ fullUrl: 'urn:uuid:0c8e9d1a-1111-4a4a-9b9b-000000000001', resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: `Patient?${lma}` } }, request: { method: 'POST', url: 'Encounter' } }],
  };
  t.equal((await fhir(app, 'POST', '/fhir', bundle, X)).status, 403, 'a conditional reference in a transaction');
  t.equal((await fhir(app, 'POST', '/fhir/Patient', newcomer, { ...Y, 'if-none-exist': lma })).status, 200, 'Y: the patient exists');
});

t.test('$match neither searches nor scores hidden identifiers for a client without the scope', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  await fhir(app, 'PUT', '/fhir/Patient/p1', RESOURCES[0], Y);
  const input = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Haddad', given: ['Omar'] }], birthDate: '1990-01-01', identifier: [{ system: LMA, value: '12-345678' }] } }] };
  const y = await fhir(app, 'POST', '/fhir/Patient/$match', input, Y);
  t.equal(y.status, 200);
  t.match(JSON.stringify(y.body.entry[0].search), /identifier/, 'Y: the identifier is evidence');
  const x = await fhir(app, 'POST', '/fhir/Patient/$match', input, X);
  t.equal(x.status, 200);
  const matches = x.body.entry.filter((e: any) => e.search.mode === 'match');
  t.same(matches.map((e: any) => e.resource.id), ['p1'], 'X still finds the patient by name and birth date');
  const evidence = matches[0].search.extension.find((e: any) => e.url.endsWith('match-evidence')).extension;
  const identifier = evidence.find((e: any) => e.url === 'identifier');
  t.equal(identifier.extension.find((e: any) => e.url === 'agreement').valueCode, 'missing', 'the identifier is no evidence: missing, as if never sent');
  t.ok(y.body.entry[0].search.score > matches[0].search.score, 'and a lower score than with the identifier');
  const warning = x.body.entry.find((e: any) => e.search.mode === 'outcome');
  t.match(warning.resource.issue[0], { severity: 'warning', diagnostics: /ignored/ });
  for (const s of SECRETS) t.notOk(x.raw.includes(s), `no ${s} in X's answer`);
  // by the hidden number alone: nothing, as for a number nobody has
  const only = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Zzyzx' }], identifier: [{ system: LMA, value: '12-345678' }] } }] };
  t.same((await fhir(app, 'POST', '/fhir/Patient/$match', only, X)).body.entry.filter((e: any) => e.search.mode === 'match'), []);
});

t.test('data stored before identifiers were marked is labelled and reindexed at start-up', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-status-'));
  const path = join(dir, 'migfhir.db');
  const open = async (): Promise<FastifyInstance> => {
    const store = new SqliteStore({ path });
    const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
    app.addHook('onClose', async () => store.close());
    return app;
  };
  let app = await open();
  await fhir(app, 'PUT', '/fhir/Patient/p1', RESOURCES[0]);
  await fhir(app, 'PUT', '/fhir/Patient/p3', RESOURCES[2]);
  await app.close();
  // as an earlier version left it: no labels on the identifiers, no sens column, no marks
  const db = new Database(path);
  const content = db.prepare('SELECT seq, content FROM resource_version').all() as { seq: number; content: string }[];
  for (const r of content) {
    const resource = JSON.parse(r.content);
    delete resource.meta.security;
    db.prepare('UPDATE resource_version SET content = ? WHERE seq = ?').run(JSON.stringify(resource), r.seq);
  }
  for (const table of ['sp_string', 'sp_token', 'sp_date', 'sp_number', 'sp_quantity', 'sp_reference', 'sp_uri', 'sp_composite']) db.exec(`ALTER TABLE ${table} DROP COLUMN sens`);
  db.exec('DROP TABLE sp_marked');
  db.close();

  const { app: authorized, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' }, { store: new SqliteStore({ path }) });
  app = authorized;
  // after the app's own teardown (teardowns run in the order added), which closes the database
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const X = await bearer('system/*.cruds');
  const Y = await bearer(SCOPES);
  t.same(idsOf((await fhir(app, 'GET', `/fhir/Patient?identifier=${LMA}|12-345678`, undefined, X)).body), [], 'X no longer finds the LMA number');
  t.same(idsOf((await fhir(app, 'GET', `/fhir/Patient?identifier=${LMA}|12-345678`, undefined, Y)).body), ['p1'], 'Y does');
  const y1 = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, Y)).body;
  t.ok(y1.meta.security?.some((s: any) => s.code === 'migration'), 'the patient was labelled');
  t.equal(y1.meta.versionId, '1', 'in place: no new version');
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/p3', undefined, Y)).body.meta.security, 'a patient without one is left alone');
  const history = await fhir(app, 'GET', '/fhir/Patient/p1/_history/1', undefined, X);
  for (const s of SECRETS) t.notOk(history.raw.includes(s), `vread of the version: no ${s}`);
});

t.test('the request\'s AuditEvent is labelled when a search names a status-revealing system', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  await fhir(app, 'GET', `/fhir/Patient?identifier=${LMA}|12-345678`, undefined, X);
  await fhir(app, 'GET', `/fhir/Patient?identifier=${PNR}|199001011234`, undefined, X);
  await (app as FastifyInstance & { fhir: { audit: { flush(): Promise<void> } } }).fhir.audit.flush();
  const url = '/fhir/AuditEvent?subtype=search-type&_count=100';
  const events = (await fhir(app, 'GET', url, undefined, Y)).body.entry?.map((e: any) => e.resource) ?? [];
  const query = (e: any) => Buffer.from(e.entity?.find((x: any) => x.query)?.query ?? '', 'base64').toString();
  const lma = events.find((e: any) => query(e).includes('se-lma'));
  const pnr = events.find((e: any) => query(e).includes('1.2.752'));
  t.ok(lma, 'the search is audited');
  t.ok(lma?.meta?.security?.some((s: any) => s.code === 'migration'), 'its event is labelled');
  t.ok(pnr, 'so is the other search');
  t.notOk(pnr?.meta?.security, 'whose event is not labelled');
  const seenByX = await fhir(app, 'GET', url, undefined, X);
  t.equal(seenByX.status, 200);
  for (const s of SECRETS) t.notOk(seenByX.raw.includes(s), `X does not read ${s} back from the trail`);
});

t.test('a stored narrative that names a hidden identifier is withheld from a client without the scope', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  const div = (text: string) => `<div xmlns="http://www.w3.org/1999/xhtml">${text}</div>`;
  const p5 = {
    resourceType: 'Patient', id: 'p5', text: { status: 'generated', div: div('Omar Haddad, LMA 12-345678') }, name: [{ family: 'Haddad' }], identifier: [{ system: LMA, value: '12-345678' }], managingOrganization: { reference: '#org' },
    contained: [{ resourceType: 'Organization', id: 'org', name: 'Reception', text: { status: 'generated', div: div('Reception desk') } }],
  };
  const p6 = { resourceType: 'Patient', id: 'p6', text: { status: 'generated', div: div('Sara Ahmadi') }, name: [{ family: 'Ahmadi' }], identifier: [{ system: LMA, value: '87-654321' }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p5', p5, Y)).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p6', p6, Y)).status, 201);
  const x5 = await fhir(app, 'GET', '/fhir/Patient/p5', undefined, X);
  t.equal(x5.body.text.status, 'empty', 'the narrative naming the number is replaced');
  t.match(x5.body.text.div, /withheld/);
  t.notOk(x5.raw.includes('12-345678'));
  t.match(x5.body.contained[0].text.div, /Reception desk/, 'a contained narrative that names nothing stays');
  t.match((await fhir(app, 'GET', '/fhir/Patient/p6', undefined, X)).body.text.div, /Sara Ahmadi/, 'a narrative that names no hidden number stays');
  t.match((await fhir(app, 'GET', '/fhir/Patient/p5', undefined, Y)).body.text.div, /12-345678/, 'Y reads the narrative as written');
  const search = await fhir(app, 'GET', '/fhir/Patient?name=haddad', undefined, X);
  t.notOk(search.raw.includes('12-345678'), 'in search results too');
});

t.test('logs carry no identifier values or status-revealing systems', async (t) => {
  const lines: string[] = [];
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', logLevel: 'trace' }), { store, logStream: { write: (line: string) => void lines.push(line) } });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  await fhir(app, 'PUT', '/fhir/Patient/p1', RESOURCES[0]);
  await fhir(app, 'GET', `/fhir/Patient?identifier=${LMA}|12-345678`);
  await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient' }, { 'if-none-exist': `identifier=${LMA}|12-345678` });
  await fhir(app, 'DELETE', `/fhir/Patient?identifier=${LMA}|99-999999`);
  await fhir(app, 'GET', `/fhir/Patient?identifier:bogus=${LMA}|12-345678`);
  t.ok(lines.length > 0, 'requests were logged');
  for (const s of SECRETS) t.notOk(lines.some((l) => l.includes(s)), `no ${s} in the log`);
});
