import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

const REQUIRED = ['11450-4', '48765-2', '10160-0'];

async function seed(app: Awaited<ReturnType<typeof testApp>>) {
  const put = (r: Record<string, unknown>) => fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r);
  await put({ resourceType: 'Patient', id: 'p1', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA-778' }], name: [{ family: 'Haddad', given: ['Amal'] }], gender: 'female', birthDate: '1990-04-07', communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }], text: 'Arabic' }, preferred: true }], extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired', valueBoolean: true }] });
  await put({ resourceType: 'Organization', id: 'org', name: 'Reception centre clinic' });
  await put({ resourceType: 'Condition', id: 'c1', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] }, code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] }, subject: { reference: 'Patient/p1' } });
  await put({ resourceType: 'Condition', id: 'c2', clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'resolved' }] }, code: { text: 'old fracture' }, subject: { reference: 'Patient/p1' } });
  await put({ resourceType: 'MedicationStatement', id: 'm1', status: 'active', medicationCodeableConcept: { coding: [{ system: 'http://www.whocc.no/atc', code: 'A10BA02', display: 'metformin' }] }, subject: { reference: 'Patient/p1' }, informationSource: { reference: 'Organization/org' }, dosage: [{ text: '500 mg twice daily' }] });
  await put({ resourceType: 'Immunization', id: 'i1', status: 'completed', vaccineCode: { text: 'MMR' }, patient: { reference: 'Patient/p1' }, occurrenceDateTime: '2024-02-01' });
  await put({ resourceType: 'Observation', id: 'o1', status: 'final', category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] }], code: { coding: [{ system: 'http://loinc.org', code: '4548-4', display: 'HbA1c' }] }, subject: { reference: 'Patient/p1' }, valueQuantity: { value: 7.9, unit: '%' }, performer: [{ reference: 'Practitioner/nobody' }] });
  await put({ resourceType: 'ServiceRequest', id: 's1', status: 'active', intent: 'order', category: [{ text: 'Mental health and psychosocial support' }], subject: { reference: 'Patient/p1' } });
}

function references(value: unknown, out: string[] = []): string[] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

t.test('Patient/$summary is an IPS document that stands on its own', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await seed(app);
  const res = await fhir(app, 'GET', '/fhir/Patient/p1/$summary');
  t.equal(res.status, 200);
  const doc = res.body;
  t.equal(doc.resourceType, 'Bundle');
  t.equal(doc.type, 'document');
  t.match(doc.identifier.value, /^urn:uuid:/);
  t.ok(doc.timestamp);
  const comp = doc.entry[0].resource;
  t.equal(comp.resourceType, 'Composition', 'the Composition comes first');
  t.equal(comp.type.coding[0].code, '60591-5');
  t.equal(comp.status, 'final');
  const codes = comp.section.map((s: any) => s.code.coding[0].code);
  for (const c of REQUIRED) t.ok(codes.includes(c), `required section ${c}`);
  for (const s of comp.section) t.match(s.text.div, /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">/, `${s.title} has narrative`);
  const allergies = comp.section.find((s: any) => s.code.coding[0].code === '48765-2');
  t.equal(allergies.emptyReason.coding[0].code, 'unavailable', 'an empty required section says why');
  t.notOk(allergies.entry);
  const problems = comp.section.find((s: any) => s.code.coding[0].code === '11450-4');
  t.equal(problems.entry.length, 1, 'resolved problems are left out');
  const past = comp.section.find((s: any) => s.code.coding[0].code === '11348-0');
  t.equal(past.entry.length, 1, 'resolved problems go to the history of past problems');
  t.ok(codes.includes('11369-6') && codes.includes('30954-2'), 'immunizations and results');
  const migration = comp.section.find((s: any) => s.code.coding[0].code === 'migration-context');
  t.match(migration.text.div, /Arabic \(preferred\)/);
  t.match(migration.text.div, /interpreter is required/);
  t.equal(migration.entry.length, 1, 'the pending referral');
  const fullUrls = new Set(doc.entry.map((e: any) => e.fullUrl));
  const refs = references(doc.entry.map((e: any) => e.resource));
  t.ok(refs.length > 5);
  t.same(refs.filter((r) => !fullUrls.has(r)), [], 'every reference resolves inside the Bundle');
  t.ok(doc.entry.some((e: any) => e.resource.resourceType === 'Organization'), 'referenced Organization included');
  const obs = doc.entry.find((e: any) => e.resource.resourceType === 'Observation').resource;
  t.notOk(obs.performer[0].reference, 'a reference to something absent keeps only its display');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/none/$summary')).status, 404);
});

t.test('a summary imported into another server reproduces the clinical content, once', async (t) => {
  const a = await testApp();
  const b = await testApp();
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await seed(a);
  const doc = (await fhir(a, 'GET', '/fhir/Patient/p1/$summary')).body;
  const imported = await fhir(b, 'POST', '/fhir/$import-summary', doc);
  t.equal(imported.status, 200);
  t.equal(imported.body.type, 'transaction-response');
  const patients = (await fhir(b, 'GET', '/fhir/Patient?identifier=https://migfhir.org/fhir/sid/gr-paaypa|PA-778')).body;
  t.equal(patients.total, 1);
  const pid = patients.entry[0].resource.id;
  const conds = (await fhir(b, 'GET', `/fhir/Condition?patient=${pid}`)).body;
  t.same(conds.entry.map((e: any) => e.resource.code.coding?.[0]?.code ?? e.resource.code.text).sort(), ['44054006', 'old fracture'], 'active and past problems');
  const meds = (await fhir(b, 'GET', `/fhir/MedicationStatement?patient=${pid}`)).body;
  t.equal(meds.entry[0].resource.medicationCodeableConcept.coding[0].code, 'A10BA02');
  t.equal(meds.entry[0].resource.dosage[0].text, '500 mg twice daily');
  t.equal((await fhir(b, 'GET', `/fhir/Immunization?patient=${pid}`)).body.total, 1);
  t.equal((await fhir(b, 'GET', `/fhir/Observation?patient=${pid}&code=4548-4`)).body.total, 1);
  t.equal((await fhir(b, 'GET', '/fhir/Composition')).body.total, 1, 'the Composition is kept');
  const prov = (await fhir(b, 'GET', '/fhir/Provenance')).body;
  t.equal(prov.total, 1);
  t.equal(prov.entry[0].resource.entity[0].what.identifier.value, doc.identifier.value);
  const again = await fhir(b, 'POST', '/fhir/$import-summary', doc);
  t.equal(again.status, 200);
  t.equal((await fhir(b, 'GET', `/fhir/Condition?patient=${pid}`)).body.total, 2, 're-importing creates no duplicates');
  t.equal((await fhir(b, 'GET', '/fhir/Patient')).body.total, 1);
  t.equal((await fhir(b, 'POST', '/fhir/$import-summary', { resourceType: 'Bundle', type: 'collection' })).status, 400);
});
