import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

t.test('terminology operations over the R4 definitions and stored resources', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const exp = await fhir(app, 'GET', '/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender');
  t.equal(exp.status, 200);
  t.equal(exp.body.expansion.total, 4);
  t.same(exp.body.expansion.contains.map((c: any) => c.code).sort(), ['female', 'male', 'other', 'unknown']);
  const filtered = await fhir(app, 'GET', '/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender&filter=fem');
  t.same(filtered.body.expansion.contains.map((c: any) => c.code), ['female']);
  const paged = await fhir(app, 'GET', '/fhir/ValueSet/$expand?url=http://hl7.org/fhir/ValueSet/administrative-gender&count=2&offset=1');
  t.equal(paged.body.expansion.contains.length, 2);
  t.equal(paged.body.expansion.offset, 1);
  t.equal((await fhir(app, 'GET', '/fhir/ValueSet/$expand?url=http://example.org/nope')).status, 404);

  const look = await fhir(app, 'GET', '/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=female');
  t.equal(look.status, 200);
  t.equal(look.body.parameter.find((p: any) => p.name === 'display').valueString, 'Female');
  t.equal((await fhir(app, 'GET', '/fhir/CodeSystem/$lookup?system=http://hl7.org/fhir/administrative-gender&code=nope')).status, 404, 'unknown code');
  t.equal((await fhir(app, 'GET', '/fhir/CodeSystem/$lookup?system=http://example.org/none&code=x')).status, 404, 'unknown system');
  t.match((await fhir(app, 'GET', '/fhir/CodeSystem/$lookup?system=http://snomed.info/sct&code=44054006')).body.issue[0].diagnostics, /not held/);

  const vc = async (q: string) => (await fhir(app, 'GET', `/fhir/ValueSet/$validate-code?${q}`)).body.parameter;
  t.equal((await vc('url=http://hl7.org/fhir/ValueSet/administrative-gender&system=http://hl7.org/fhir/administrative-gender&code=male'))[0].valueBoolean, true);
  const no = await vc('url=http://hl7.org/fhir/ValueSet/administrative-gender&system=http://hl7.org/fhir/administrative-gender&code=mal');
  t.equal(no[0].valueBoolean, false);
  t.ok(no.some((p: any) => p.name === 'message'));
  const cs = (await fhir(app, 'GET', '/fhir/CodeSystem/$validate-code?url=http://hl7.org/fhir/administrative-gender&code=other')).body.parameter;
  t.equal(cs[0].valueBoolean, true);

  const tr = await fhir(app, 'POST', '/fhir/ConceptMap/$translate', { resourceType: 'Parameters', parameter: [{ name: 'system', valueUri: 'http://hl7.org/fhir/administrative-gender' }, { name: 'code', valueCode: 'male' }, { name: 'targetsystem', valueUri: 'http://terminology.hl7.org/CodeSystem/v2-0001' }] });
  t.equal(tr.status, 200);
  t.equal(tr.body.parameter[0].valueBoolean, true);
  const match = tr.body.parameter.find((p: any) => p.name === 'match');
  t.equal(match.part.find((x: any) => x.name === 'concept').valueCoding.code, 'M');
  t.equal(match.part.find((x: any) => x.name === 'equivalence').valueCode, 'equal');

  // a stored code system with a hierarchy and designations in other languages
  await fhir(app, 'PUT', '/fhir/CodeSystem/ms', {
    resourceType: 'CodeSystem', id: 'ms', url: 'https://migfhir.org/fhir/CodeSystem/migration-status-test', status: 'active', content: 'complete', hierarchyMeaning: 'is-a',
    concept: [{ code: 'protection', display: 'International protection', designation: [{ language: 'de', value: 'Internationaler Schutz' }], concept: [{ code: 'refugee', display: 'Refugee', designation: [{ language: 'de', value: 'Flüchtling' }, { language: 'ar', value: 'لاجئ' }] }, { code: 'subsidiary', display: 'Subsidiary protection', property: [{ code: 'status', valueCode: 'retired' }] }] }, { code: 'irregular', display: 'Irregular stay' }],
  });
  await fhir(app, 'PUT', '/fhir/ValueSet/msvs', { resourceType: 'ValueSet', id: 'msvs', url: 'https://migfhir.org/fhir/ValueSet/protection-test', status: 'active', compose: { include: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status-test', filter: [{ property: 'concept', op: 'is-a', value: 'protection' }] }] } });
  const de = await fhir(app, 'GET', '/fhir/ValueSet/msvs/$expand?displayLanguage=de&includeDesignations=true');
  t.same(de.body.expansion.contains.map((c: any) => c.code).sort(), ['protection', 'refugee', 'subsidiary']);
  t.equal(de.body.expansion.contains.find((c: any) => c.code === 'refugee').display, 'Flüchtling');
  t.ok(de.body.expansion.contains.find((c: any) => c.code === 'refugee').designation.some((d: any) => d.language === 'ar'));
  t.equal((await fhir(app, 'GET', '/fhir/ValueSet/msvs/$expand?filter=fluchtling')).body.expansion.total, 1, 'filter matches designations, accent-insensitive');
  const sub = async (a: string, b: string) => (await fhir(app, 'GET', `/fhir/CodeSystem/$subsumes?system=https://migfhir.org/fhir/CodeSystem/migration-status-test&codeA=${a}&codeB=${b}`)).body.parameter[0].valueCode;
  t.equal(await sub('protection', 'refugee'), 'subsumes');
  t.equal(await sub('refugee', 'protection'), 'subsumed-by');
  t.equal(await sub('refugee', 'irregular'), 'not-subsumed');
  t.equal(await sub('refugee', 'refugee'), 'equivalent');
  const inactive = (await fhir(app, 'GET', '/fhir/CodeSystem/$lookup?system=https://migfhir.org/fhir/CodeSystem/migration-status-test&code=subsidiary')).body.parameter;
  t.equal(inactive.find((p: any) => p.name === 'property' && p.part[0].valueCode === 'inactive').part[1].valueBoolean, true);
  const cap = await fhir(app, 'GET', '/fhir/metadata');
  const vsOps = cap.body.rest[0].resource.find((r: any) => r.type === 'ValueSet').operation.map((o: any) => o.name);
  t.ok(vsOps.includes('expand') && vsOps.includes('validate-code'));
});

t.test('search with :in and :not-in uses the value set', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const [id, gender] of [['a', 'male'], ['b', 'female'], ['c', 'other']]) await fhir(app, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, gender });
  await fhir(app, 'PUT', '/fhir/ValueSet/mf', { resourceType: 'ValueSet', id: 'mf', url: 'https://migfhir.org/fhir/ValueSet/mf-test', status: 'active', compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'male' }, { code: 'female' }] }] } });
  const ids = async (q: string) => ((await fhir(app, 'GET', `/fhir/Patient?${q}`)).body.entry ?? []).map((e: any) => e.resource.id).sort();
  t.same(await ids('gender:in=https://migfhir.org/fhir/ValueSet/mf-test'), ['a', 'b'], 'code elements match without a system');
  t.same(await ids('gender:not-in=https://migfhir.org/fhir/ValueSet/mf-test'), ['c']);
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://hl7.org/fhir/administrative-gender', code: 'male' }] } });
  await fhir(app, 'PUT', '/fhir/Observation/o2', { resourceType: 'Observation', id: 'o2', status: 'final', code: { coding: [{ system: 'http://hl7.org/fhir/administrative-gender', code: 'other' }] } });
  const obs = async (q: string) => ((await fhir(app, 'GET', `/fhir/Observation?${q}`)).body.entry ?? []).map((e: any) => e.resource.id).sort();
  t.same(await obs('code:in=https://migfhir.org/fhir/ValueSet/mf-test'), ['o1']);
  t.same(await obs('code:not-in=https://migfhir.org/fhir/ValueSet/mf-test'), ['o2']);
  t.same(await obs('code:in=http://hl7.org/fhir/ValueSet/administrative-gender'), ['o1', 'o2'], 'a value set from the R4 package');
  t.equal((await fhir(app, 'GET', '/fhir/Observation?code:in=http://example.org/unknown')).status, 400);
});

t.test(':below and :above on tokens follow the code system hierarchy', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/CodeSystem/h', { resourceType: 'CodeSystem', id: 'h', url: 'https://migfhir.org/fhir/CodeSystem/referral-test', status: 'active', content: 'complete', concept: [{ code: 'mhpss', display: 'Mental health', concept: [{ code: 'trauma', display: 'Trauma care' }, { code: 'counselling', display: 'Counselling' }] }, { code: 'tb', display: 'TB follow-up' }] });
  const sr = (id: string, code: string) => fhir(app, 'PUT', `/fhir/ServiceRequest/${id}`, { resourceType: 'ServiceRequest', id, status: 'active', intent: 'order', category: [{ coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/referral-test', code }] }], subject: { reference: 'Patient/p' } });
  await sr('s1', 'trauma');
  await sr('s2', 'mhpss');
  await sr('s3', 'tb');
  const ids = async (q: string) => ((await fhir(app, 'GET', `/fhir/ServiceRequest?${q}`)).body.entry ?? []).map((e: any) => e.resource.id).sort();
  t.same(await ids('category:below=https://migfhir.org/fhir/CodeSystem/referral-test|mhpss'), ['s1', 's2']);
  t.same(await ids('category:above=https://migfhir.org/fhir/CodeSystem/referral-test|trauma'), ['s1', 's2']);
  t.equal((await fhir(app, 'GET', '/fhir/Condition?code:below=http://snomed.info/sct|40733004')).status, 400, 'SNOMED hierarchy is not held');
});
