// $import-national and Patient/$export-national against a real (in-memory SQLite) store:
// every fixture applied with a Provenance, re-sending changes nothing, the PAAYPA→AMKA
// transition keeps one person, bad national numbers store nothing, export gives the national form.
import t from 'tap';
import type { Bundle, Coverage, Patient } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { AMKA, FIXTURES, PAAYPA, STORED_AMKA, dePatient } from '../mapping/national/fixtures.ts';
import type { FastifyInstance } from 'fastify';

const count = async (app: FastifyInstance, q: string) => (await fhir(app, 'GET', `/fhir/${q}${q.includes('?') ? '&' : '?'}_summary=count`)).body.total as number;

t.test('every fixture is applied once, with a Provenance; re-sending changes nothing', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const f of FIXTURES) {
    const res = await fhir(app, 'POST', `/fhir/$import-national?adapter=${f.adapter}`, f.body);
    t.equal(res.status, 200, `${f.name}: ${JSON.stringify(res.body?.issue ?? '')}`);
    t.equal(res.body.type, 'transaction-response', f.name);
  }
  // gr1 (PAAYPA) and gr2 (AMKA replacing that PAAYPA) are one person
  const patients = await count(app, 'Patient');
  t.equal(patients, FIXTURES.length - 1, 'one Patient per person');
  t.equal(await count(app, 'Provenance'), FIXTURES.length, 'one Provenance per import');
  t.equal(await count(app, 'Coverage'), 1);
  for (const f of FIXTURES) {
    const again = await fhir(app, 'POST', `/fhir/$import-national?adapter=${f.adapter}`, f.body);
    t.equal(again.status, 200);
    t.equal(again.body.issue?.[0].code, 'duplicate', `${f.name}: recognised as a re-send`);
  }
  t.equal(await count(app, 'Patient'), patients, 're-sending created nothing');
  const prov = (await fhir(app, 'GET', '/fhir/Provenance?_count=1&_sort=_lastUpdated')).body.entry[0].resource;
  t.match(prov.agent[1], { who: { identifier: { system: 'https://migfhir.org/fhir/sid/adapter', value: 'de' } } }, 'the adapter is named');
});

t.test('PAAYPA → AMKA: one person, the PAAYPA kept with its period; export writes the link back', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const [gr1, gr2] = FIXTURES.filter((f) => f.adapter === 'gr');
  await fhir(app, 'POST', '/fhir/$import-national?adapter=gr', gr1.body);
  const first = (await fhir(app, 'GET', `/fhir/Patient?identifier=${PAAYPA}|PA-0048213`)).body.entry[0].resource as Patient;
  await fhir(app, 'POST', '/fhir/$import-national?adapter=gr', gr2.body);
  t.equal(await count(app, 'Patient'), 1, 'never a second person');
  const p = (await fhir(app, 'GET', `/fhir/Patient/${first.id}`)).body as Patient;
  t.ok(p.identifier!.some((i) => i.system === STORED_AMKA) && p.identifier!.some((i) => i.system === PAAYPA && i.period?.end === '2026-09-15'), 'AMKA added, PAAYPA period ended');
  const out = (await fhir(app, 'GET', `/fhir/Patient/${first.id}/$export-national?adapter=gr`)).body as Bundle;
  const exported = out.entry![0].resource as Patient;
  t.same(exported.identifier!.map((i) => i.system), [AMKA]);
  t.match(exported.link, [{ type: 'replaces', other: { identifier: { system: PAAYPA, value: 'PA-0048213' } } }]);
});

t.test('a later import in Latin letters keeps the name in the original script; one in that script replaces it', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const [gr1, gr2] = FIXTURES.filter((f) => f.adapter === 'gr');
  await fhir(app, 'POST', '/fhir/$import-national?adapter=gr', gr1.body);
  const latinOnly = { ...(gr2.body as Patient), name: [{ family: 'Haddad', given: ['Fatima', 'Noor'] }] };
  t.equal((await fhir(app, 'POST', '/fhir/$import-national?adapter=gr', latinOnly)).status, 200);
  const p = (await fhir(app, 'GET', `/fhir/Patient?identifier=${PAAYPA}|PA-0048213`)).body.entry[0].resource as Patient;
  t.same(p.name, [{ family: 'Haddad', given: ['Fatima', 'Noor'] }, { family: 'حداد', given: ['فاطمة'] }], 'the Latin name updated, the Arabic one kept');
  const arabic = { ...(gr2.body as Patient), id: 'gr2b', name: [{ family: 'حداد', given: ['فاطمة', 'نور'] }] };
  t.equal((await fhir(app, 'POST', '/fhir/$import-national?adapter=gr', arabic)).status, 200);
  const q = (await fhir(app, 'GET', `/fhir/Patient/${p.id}`)).body as Patient;
  t.same(q.name, [{ family: 'حداد', given: ['فاطمة', 'نور'] }, { family: 'Haddad', given: ['Fatima', 'Noor'] }], 'an Arabic-script name replaces the Arabic-script name');
});

t.test('PESEL with UKR status becomes a migration status next to the earlier ones', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const pl = FIXTURES.find((f) => f.name.startsWith('PL PESEL'))!;
  const res = await fhir(app, 'POST', '/fhir/$import-national?adapter=pl', pl.body);
  t.equal(res.status, 200);
  const id = /Patient\/([^/]+)\//.exec(res.body.entry[0].response.location)![1];
  const p = (await fhir(app, 'GET', `/fhir/Patient/${id}`)).body as Patient;
  const status = p.extension!.find((e) => e.url === 'https://migfhir.org/fhir/StructureDefinition/migration-status')!;
  t.match(status.extension, [{ url: 'status', valueCodeableConcept: { coding: [{ code: 'temporary-protection' }] } }, { url: 'period' }, { url: 'grantingCountry', valueCodeableConcept: { coding: [{ code: 'PL' }] } }, { url: 'sourceDocument' }]);
  const back = (await fhir(app, 'GET', `/fhir/Patient/${id}/$export-national?adapter=pl`)).body as Bundle;
  t.match((back.entry![0].resource as Patient).identifier![0].extension, [{ url: 'https://migfhir.org/fhir/StructureDefinition/pesel-status', valueCode: 'UKR' }]);
  // the same person exported to Germany: the sensitive status does not leave
  const de = (await fhir(app, 'GET', `/fhir/Patient/${id}/$export-national?adapter=de`)).body as Bundle;
  t.notOk((de.entry![0].resource as Patient).extension, 'no migration status in a national export that has no element for it');
});

t.test('Germany: Coverage with person group 09 is kept and exported with the patient', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await fhir(app, 'POST', '/fhir/$import-national?adapter=de', FIXTURES[0].body);
  const id = /Patient\/([^/]+)\//.exec(res.body.entry[0].response.location)![1];
  const out = (await fhir(app, 'GET', `/fhir/Patient/${id}/$export-national?adapter=de`)).body as Bundle;
  t.same(out.entry!.map((e) => e.resource!.resourceType), ['Patient', 'Coverage']);
  const c = out.entry![1].resource as Coverage;
  t.equal(c.beneficiary.reference, `Patient/${id}`);
  t.match(c.extension, [{ valueCoding: { system: 'https://fhir.kbv.de/CodeSystem/KBV_CS_SFHIR_KBV_PERSONENGRUPPE', code: '09' } }]);
  t.notOk(c.identifier, 'migfhir\'s key of the relationship stays inside migfhir');
});

t.test('a patient first seen in HL7 v2 gets ISiK name and street parts on export', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/v2p', { resourceType: 'Patient', id: 'v2p', identifier: [{ system: 'http://fhir.de/sid/gkv/kvid-10', value: 'A123456780' }], name: [{ family: 'Yilmaz', given: ['Deniz'] }], address: [{ line: ['Kantstraße 7b'], city: 'Berlin' }] });
  const p = (await fhir(app, 'GET', '/fhir/Patient/v2p/$export-national?adapter=de')).body.entry[0].resource as Patient;
  t.match(p.name![0]._family, { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-name', valueString: 'Yilmaz' }] });
  t.match(p.address![0]._line, [{ extension: [{ valueString: 'Kantstraße' }, { valueString: '7b' }] }]);
  t.equal(p.meta?.profile?.[0], 'https://gematik.de/fhir/isik/StructureDefinition/ISiKPatient');
  t.match(p.identifier![0].type, { coding: [{ code: 'KVZ10' }] });
});

t.test('Croatia: export is a PMIR message; a foreigner without MBO, passport or EHIC is refused', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/syr', { resourceType: 'Patient', id: 'syr', identifier: [{ system: 'https://migfhir.org/fhir/sid/passport/SYR', value: 'N0123456', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PPN' }] } }], name: [{ family: 'Khalil' }] });
  const msg = (await fhir(app, 'GET', '/fhir/Patient/syr/$export-national?adapter=hr')).body as Bundle;
  t.equal(msg.type, 'message');
  t.equal((msg.entry![0].resource as { eventUri?: string }).eventUri, 'urn:ihe:iti:pmir:2019:patient-feed');
  const p = (msg.entry![1].resource as Bundle).entry![0].resource as Patient;
  t.match(p.identifier, [{ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/putovnica', value: 'N0123456', assigner: { display: 'SYR' } }]);
  await fhir(app, 'PUT', '/fhir/Patient/noid', { resourceType: 'Patient', id: 'noid', identifier: [{ system: 'https://migfhir.org/fhir/sid/unhcr-progres', value: '123-00045' }] });
  const refused = await fhir(app, 'GET', '/fhir/Patient/noid/$export-national?adapter=hr');
  t.equal(refused.status, 422);
  t.same(refused.body.issue[0].expression, ['Patient.identifier']);
});

t.test('refusals: bad check digits, unknown adapter, unmapped resource types — nothing stored', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cases: [string, unknown, number, string][] = [
    ['de', { ...dePatient, identifier: [{ system: 'http://fhir.de/sid/gkv/kvid-10', value: 'A123456781' }] }, 422, 'Patient.identifier[0].value'],
    ['pl', { resourceType: 'Patient', identifier: [{ system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '85031201230' }] }, 422, 'Patient.identifier[0].value'],
    ['se', { resourceType: 'Patient', identifier: [{ system: 'urn:oid:1.2.752.129.2.1.3.1', value: '199003711230' }] }, 422, 'Patient.identifier[0].value'],
    ['hr', { resourceType: 'Patient', identifier: [{ system: 'http://fhir.cezih.hr/specifikacije/identifikatori/OIB', value: '69435151531' }] }, 422, 'Patient.identifier[0].value'],
    ['it', { resourceType: 'Patient', identifier: [{ system: 'http://hl7.it/sid/codiceFiscale', value: 'RSSMRA71E01F205X' }] }, 422, 'Patient.identifier[0].value'],
    ['gr', { resourceType: 'Patient', name: [{ family: 'X' }] }, 422, 'Patient.identifier'],
    ['de', { resourceType: 'Bundle', type: 'collection', entry: [{ resource: dePatient }, { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }] }, 422, 'Bundle.entry[1].resource'],
    ['xx', dePatient, 400, ''],
  ];
  for (const [adapter, body, status, at] of cases) {
    const res = await fhir(app, 'POST', `/fhir/$import-national?adapter=${adapter}`, body);
    t.equal(res.status, status, `${adapter} → ${status}`);
    t.equal(res.body.resourceType, 'OperationOutcome');
    if (at) t.same(res.body.issue[0].expression, [at], at);
  }
  t.equal(await count(app, 'Patient'), 0, 'nothing stored');
  t.equal(await count(app, 'Provenance'), 0);
});

t.test('unmapped national extensions are kept and reported as warnings', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const body = { ...dePatient, extension: [{ url: 'https://example.org/fhir/StructureDefinition/religion', valueString: 'x' }] };
  const res = await fhir(app, 'POST', '/fhir/$import-national?adapter=de', body);
  t.equal(res.status, 200);
  t.match(res.body.entry[0].response.outcome.issue, [{ severity: 'warning', expression: ['Patient.extension[0]'] }]);
});

t.test('/metadata and migfhir adapters list the national adapters', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cs = (await fhir(app, 'GET', '/fhir/metadata')).body;
  const ops = cs.rest[0].operation.map((o: { name: string }) => o.name);
  t.ok(ops.includes('import-national'));
  const patientOps = cs.rest[0].resource.find((r: { type: string }) => r.type === 'Patient').operation.map((o: { name: string }) => o.name);
  t.ok(patientOps.includes('export-national'));
  for (const id of ['de', 'it', 'se', 'pl', 'hr', 'gr']) t.match(cs.rest[0].documentation, new RegExp(`\\b${id} \\d+\\.\\d+\\.\\d+ \\(`), `${id} in /metadata`);
});
