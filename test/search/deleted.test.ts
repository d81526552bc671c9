// Deleted resources leave every kind of search: matches, chains, _has, _include, _revinclude,
// compartments, counts and system-level search. Core fixtures (fixtures.ts) with
// Observation/obs-weight-mueller and Organization/klinikum deleted; expectations by hand.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { fixtureSet } from './fixtures.ts';

const app = await testApp();
t.teardown(() => app.close());
for (const r of fixtureSet('core')) {
  const res = await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r);
  if (res.status !== 201) throw new Error(`PUT ${r.resourceType}/${r.id}: ${res.status}`);
}
t.equal((await fhir(app, 'DELETE', '/fhir/Observation/obs-weight-mueller')).status, 200);
t.equal((await fhir(app, 'DELETE', '/fhir/Organization/klinikum')).status, 200);

const CASES: [string, string[], string[]?, number?][] = [
  // [query, matches, included, total]
  ['Observation?code=29463-7', ['Observation/example']],
  ['Observation?_id=obs-weight-mueller', []],
  ['?_id=obs-weight-mueller', []],
  ['Patient?_has:Observation:subject:code=29463-7', ['Patient/example']],
  ['Encounter?service-provider.name=stadt', []],
  ['Encounter?service-provider:missing=false', ['Encounter/f001', 'Encounter/f201', 'Encounter/enc-mueller', 'Encounter/enc-elkina'], [], undefined],
  ['Patient?_id=mueller&_revinclude=Observation:subject&_include=Patient:organization&_include=Patient:general-practitioner', ['Patient/mueller'], ['Practitioner/alkhatib']],
  ['Patient/mueller/Observation', []],
  ['Observation?subject=Patient/mueller', []],
  ['Observation?_summary=count', [], [], 13],
  ['Organization?_summary=count', [], [], 9],
];

for (const [query, matches, included = [], total] of CASES) {
  t.test(query, async (t) => {
    const r = await fhir(app, 'GET', `/fhir/${query}`);
    t.equal(r.status, 200);
    const ids = (mode: string) => (r.body.entry ?? []).filter((e: any) => e.search?.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();
    t.same(ids('match'), [...matches].sort(), 'matches');
    t.same(ids('include'), [...included].sort(), 'included');
    if (total !== undefined) t.equal(r.body.total, total, 'total');
  });
}

t.test('a deleted resource that is created again is found again', async (t) => {
  const back = { resourceType: 'Organization', id: 'klinikum', name: 'Städtisches Klinikum München' };
  t.equal((await fhir(app, 'PUT', '/fhir/Organization/klinikum', back)).status, 201);
  const r = await fhir(app, 'GET', '/fhir/Encounter?service-provider.name=stadt');
  t.same(r.body.entry.map((e: any) => e.resource.id), ['enc-mueller']);
});
