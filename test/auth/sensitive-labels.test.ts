// The sensitivity labels (src/auth/sensitive.ts LABELS) are part of what a client without the
// migration-data scope (X) is not shown: `migration` on a record says "this person has a
// migration status" as plainly as the extension. Through every door X sees no label and no
// per-resource REDACTED marker, only the same notice on every answer; its searches on
// `_security` (values, :not, :missing, sorts, chains, _has, totals) answer as over a store that
// holds only what X can read, on both engines. A client with the scope (Y) sees the labels.
import t from 'tap';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { compareWithViews, idsOf, VIEW_ENGINES, type ViewSearch } from '../helpers/view-engines.ts';

const SENS = 'https://migfhir.org/fhir/CodeSystem/sensitivity';
const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const LMA = 'https://migfhir.org/fhir/sid/se-lma';
const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const SCOPES = 'system/*.cruds migfhir/migration-data.read';
const NOTICE = 'withheld; scope="migfhir/migration-data.read"';
/** what X's answers may not hold: the labels' systems and the per-resource marker */
const TELLS = [SENS, CONF, 'REDACTED', '>migration<', LMA, 'asylum-applicant'];

const status = { url: STATUS_EXT, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] };
const RESOURCES = [
  // labelled for its migration status extension
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], extension: [status] },
  // labelled for its LMA number only
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Ahmadi' }], identifier: [{ system: LMA, value: '87-654321' }, { system: 'urn:oid:1.2.752.129.2.1.3.1', value: '198505051234' }] },
  { resourceType: 'Patient', id: 'p3', name: [{ family: 'Nowak' }] },
  { resourceType: 'Encounter', id: 'e1', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } },
  { resourceType: 'Encounter', id: 'e3', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p3' } },
  // labelled: its subject names the LMA number
  { resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p2', identifier: { system: LMA, value: '87-654321' } } },
  { resourceType: 'Observation', id: 'o3', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p3' } },
];

const SEARCHES: ViewSearch[] = [
  { q: `Patient?_security=${SENS}|migration`, want: [] },
  { q: `Patient?_security=${SENS}|no-non-health-use`, want: [] },
  { q: `Patient?_security=${CONF}|R`, want: [] },
  { q: 'Patient?_security=migration', want: [] },
  { q: `Patient?_security:not=${SENS}|migration`, want: ['p1', 'p2', 'p3'] },
  { q: 'Patient?_security:missing=true', want: ['p1', 'p2', 'p3'] },
  { q: 'Patient?_security:missing=false', want: [] },
  { q: `Patient?_security:text=migration`, want: [] },
  { q: 'Patient?_sort=_security,_id', ordered: true },
  { q: 'Patient?_sort=-_security,_id', ordered: true },
  { q: `Encounter?subject:Patient._security=${SENS}|migration`, want: [] },
  { q: `Observation?subject._security=${SENS}|migration`, want: [] },
  { q: `Patient?_has:Observation:subject:_security=${SENS}|migration`, want: [] },
  { q: `Patient?_has:Observation:subject:_security:not=${SENS}|migration`, want: ['p2', 'p3'] },
  { q: `Observation?_security=${SENS}|migration&_include=Observation:subject`, want: [] },
  { q: `Patient?_security=${SENS}|migration&_total=accurate&_count=0`, want: [] },
  { q: `Patient?_security:not=${CONF}|R&_total=accurate`, want: ['p1', 'p2', 'p3'] },
];

for (const [engine, storeOf] of VIEW_ENGINES) {
  t.test(`${engine}: the sensitivity labels are part of the hidden view`, async (t) => {
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' }, { store: storeOf() });
    const Y = await bearer(SCOPES);
    const X = await bearer('system/*.cruds');
    for (const r of RESOURCES) t.equal((await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r, Y)).status, 201, `${r.resourceType}/${r.id} stored`);
    for (const id of ['p1', 'p2']) {
      const y = (await fhir(app, 'GET', `/fhir/Patient/${id}`, undefined, Y));
      t.ok(y.body.meta.security.some((s: any) => s.system === SENS && s.code === 'migration'), `Y: Patient/${id} is labelled`);
      t.notOk(y.headers['x-sensitive-data'], 'Y: no notice, nothing is withheld from Y');
    }

    const doors = [
      'Patient/p1', 'Patient/p2', 'Patient/p3', 'Observation/o2', 'Patient/p1/_history/1', 'Patient/p1/_history', 'Patient/_history', '_history',
      'Patient', 'Patient?_id=p1,p2&_revinclude=Encounter:subject&_revinclude=Observation:subject', 'Observation?_include=Observation:subject',
      'Patient/p1/$everything', 'Patient/p2/$everything', 'Patient/p1/$summary', 'Patient/p2/$meta', 'Patient/p1/_history/1/$meta', 'Patient/$meta', '$meta',
      'Patient/p1?_format=xml', 'Patient?_format=xml', 'Patient/p1?_elements=meta', 'Patient/p2?_summary=true', 'Patient?_elements=id,meta', 'Patient?_summary=count',
    ];
    for (const door of doors) {
      const x = await fhir(app, 'GET', `/fhir/${door}`, undefined, X);
      t.equal(x.status, 200, `${door}: 200`);
      for (const s of TELLS) t.notOk(x.raw.includes(s), `${door}: X is not told ${s}`);
      t.equal(x.headers['x-sensitive-data'], NOTICE, `${door}: the notice, as on every answer to X`);
    }
    // a batch, and $meta-add's answer
    const batch = { resourceType: 'Bundle', type: 'batch', entry: ['Patient/p1', 'Patient/p2', `Patient?_security=${SENS}|migration`].map((url) => ({ request: { method: 'GET', url } })) };
    const b = await fhir(app, 'POST', '/fhir', batch, X);
    t.equal(b.status, 200);
    for (const s of TELLS) t.notOk(b.raw.includes(s), `batch: X is not told ${s}`);
    const params = { resourceType: 'Parameters', parameter: [{ name: 'meta', valueMeta: { tag: [{ system: 'urn:x', code: 'seen' }] } }] };
    const added = await fhir(app, 'POST', '/fhir/Patient/p1/$meta-add', params, X);
    t.equal(added.status, 200);
    for (const s of TELLS) t.notOk(added.raw.includes(s), `$meta-add: X is not told ${s}`);
    t.ok((await fhir(app, 'GET', '/fhir/Patient/p1/$meta', undefined, Y)).raw.includes(SENS), 'Y: $meta shows the labels');
    // an error answer carries the notice too: it does not depend on what the answer holds
    const missing = await fhir(app, 'GET', '/fhir/Patient/nobody', undefined, X);
    t.equal(missing.status, 404);
    t.equal(missing.headers['x-sensitive-data'], NOTICE, 'a 404 carries the notice as well');

    // X's searches answer as over a store holding only X's views
    await compareWithViews(t, app, X, RESOURCES, SEARCHES);
    // Y searches the labels
    t.same(idsOf((await fhir(app, 'GET', `/fhir/Patient?_security=${SENS}|migration`, undefined, Y)).body).sort(), ['p1', 'p2'], 'Y finds the labelled patients');
    t.same(idsOf((await fhir(app, 'GET', `/fhir/Patient?_has:Observation:subject:_security=${SENS}|migration`, undefined, Y)).body), ['p2']);
  });
}

t.test('X writes back what it read: the labels it did not see stay, and other labels it sets are its own', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: SCOPES, alg: 'ES384' });
  const Y = await bearer(SCOPES);
  const X = await bearer('system/*.cruds');
  await fhir(app, 'PUT', '/fhir/Patient/p1', RESOURCES[0], Y);
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, X)).body;
  const put = await fhir(app, 'PUT', '/fhir/Patient/p1', { ...seen, meta: { security: [{ system: 'urn:x', code: 'mine' }] } }, X);
  t.equal(put.status, 200);
  t.same(put.body.meta.security, [{ system: 'urn:x', code: 'mine' }], 'X sees its own label only');
  const stored = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, Y)).body;
  t.ok(stored.meta.security.some((s: any) => s.system === SENS && s.code === 'migration'), 'the sensitivity labels follow the content');
  t.ok(stored.meta.security.some((s: any) => s.code === 'mine'), 'and X\'s label is stored');
  t.ok(stored.extension.some((e: any) => e.url === STATUS_EXT), 'as is the status X could not see');
});
