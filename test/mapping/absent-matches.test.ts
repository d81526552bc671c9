// The batch's conditional look-ups proven to match nothing by one search (src/mapping/absent-matches.ts):
// only those whose values no match of the union carries, until the batch writes one of them.
import t from 'tap';
import type { BundleEntry } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { AbsentMatches } from '../../src/mapping/absent-matches.ts';
import { WRITE_MODE } from '../../src/mapping/conventions.ts';
import type { Context, FhirRequest } from '../../src/rest/types.ts';

const req: FhirRequest = { method: 'POST', baseUrl: 'http://test.local/fhir', query: Object.create(null), headers: {} };
const S = 'http://hospital.example/mrn';

function entry(url: string): BundleEntry {
  return { extension: [{ url: WRITE_MODE, valueCode: 'merge' }], resource: { resourceType: url.slice(0, url.indexOf('?')) } as never, request: { method: 'PUT', url } };
}

t.test('absent only when no match of the union carries a value; a write of the batch ends it', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const ctx = (app as unknown as { fhir: Context }).fhir;
  t.equal((await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', identifier: [{ system: S, value: 'A,1' }, { system: 'http://other.example', value: 'SHARED' }] })).status, 201);
  t.equal((await fhir(app, 'POST', '/fhir/Provenance', { resourceType: 'Provenance', meta: { source: 'urn:msg#1' }, target: [{ reference: 'Patient/x' }], recorded: '2024-01-01T00:00:00Z', agent: [{ who: { display: 'x' } }] })).status, 201);
  const stored = `Patient?identifier=${encodeURIComponent(`${S}|A\\,1`)}`;
  const newOne = `Patient?identifier=${encodeURIComponent(`${S}|B`)}`;
  // matches nothing itself, but its value is carried by the stored patient (another system): searched on its own
  const sameValue = `Patient?identifier=${encodeURIComponent(`${S}|SHARED`)}`;
  const withOther = `Patient?identifier=${encodeURIComponent(`${S}|C`)}&birthdate=2000`;
  await ctx.repo.transaction(async () => {
    const absent = await AbsentMatches.prove(req, ctx, [[entry(stored), entry(newOne)], [entry(sameValue), entry(withOther)]], ['urn:msg#1', 'urn:msg#2', 'urn:msg,3']);
    t.notOk(absent.identifierAbsent('Patient', stored), 'a stored identifier (an escaped comma in its value)');
    t.ok(absent.identifierAbsent('Patient', newOne), 'an identifier nobody has');
    t.notOk(absent.identifierAbsent('Patient', sameValue), 'a value a match carries under another system');
    t.notOk(absent.identifierAbsent('Patient', withOther), 'a look-up with other parameters is never proven');
    t.notOk(absent.identifierAbsent('Encounter', newOne.replace('Patient', 'Encounter')), 'a look-up the batch did not ask');
    t.notOk(absent.sourceAbsent('urn:msg#1'), 'a message applied before');
    t.ok(absent.sourceAbsent('urn:msg#2'), 'a new message');
    t.notOk(absent.sourceAbsent('urn:msg,3'), 'a source with a separator is searched on its own');
    absent.wrote([{ resourceType: 'Patient', identifier: [{ system: S, value: 'B' }] } as never, { resourceType: 'Provenance', meta: { source: 'urn:msg#2' } } as never]);
    t.notOk(absent.identifierAbsent('Patient', newOne), 'once the batch wrote a patient with it');
    t.notOk(absent.sourceAbsent('urn:msg#2'), 'once the batch wrote its Provenance');
  });
});

t.test('a custom SearchParameter in place of identifier: nothing is proven', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const ctx = (app as unknown as { fhir: Context }).fhir;
  const param = { resourceType: 'SearchParameter', id: 'pid', url: 'http://example.org/fhir/SearchParameter/pid', name: 'identifier', status: 'active', description: 'test', code: 'identifier', base: ['Patient'], type: 'token', expression: 'Patient.identifier | Patient.link.other.identifier' };
  const put = await fhir(app, 'PUT', '/fhir/SearchParameter/pid', param);
  t.ok(put.status < 300, `stored (${put.status})`);
  const url = `Patient?identifier=${encodeURIComponent(`${S}|B`)}`;
  await ctx.repo.transaction(async () => {
    const absent = await AbsentMatches.prove(req, ctx, [[entry(url)]], []);
    t.equal(ctx.search.get('Patient', 'identifier')?.expression, param.expression, 'the custom parameter answers identifier');
    t.notOk(absent.identifierAbsent('Patient', url), 'not proven: its values need not be Patient.identifier.value');
  });
});
