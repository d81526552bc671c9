import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

t.test('Patient/$everything pages through the compartment', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' });
  await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2' });
  const ids: string[] = ['Patient/p1'];
  for (let i = 0; i < 7; i++) {
    const o = await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' }, effectiveDateTime: `202${i}-01-01` });
    ids.push(`Observation/${o.body.id}`);
  }
  const e = await fhir(app, 'POST', '/fhir/Encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/p1' } });
  ids.push(`Encounter/${e.body.id}`);
  await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p2' } });

  const seen: string[] = [];
  let url: string | undefined = '/fhir/Patient/p1/$everything?_count=3';
  let pages = 0;
  while (url) {
    const res = await fhir(app, 'GET', url);
    t.equal(res.status, 200);
    pages++;
    for (const en of res.body.entry ?? []) seen.push(`${en.resource.resourceType}/${en.resource.id}`);
    const next = res.body.link.find((l: any) => l.relation === 'next')?.url;
    url = next?.replace('http://test.local', '');
  }
  t.same([...seen].sort(), [...ids].sort(), 'every resource of the compartment once, and nothing of p2');
  t.ok(pages >= 3 && pages <= 4, 'pages of at most _count entries');

  const dated = await fhir(app, 'GET', '/fhir/Patient/p1/$everything?start=2023-01-01&end=2024-12-31&_count=100');
  const kinds = dated.body.entry.map((x: any) => x.resource.resourceType);
  t.equal(kinds.filter((k: string) => k === 'Observation').length, 2, 'observations of 2023 and 2024');
  t.ok(kinds.includes('Encounter'), 'Encounters without a date are kept');
  const typed = await fhir(app, 'GET', '/fhir/Patient/p1/$everything?_type=Encounter');
  t.same(typed.body.entry.map((x: any) => x.resource.resourceType), ['Encounter']);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/nope/$everything')).status, 404);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/$everything?patient=p2')).body.entry.length, 2);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/$everything')).status, 400);
});

t.test('$merge links two records of one person; $everything follows the links when asked', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/paaypa', { resourceType: 'Patient', id: 'paaypa', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA1', use: 'temp' }] });
  await fhir(app, 'PUT', '/fhir/Patient/amka', { resourceType: 'Patient', id: 'amka', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-amka', value: '01019012345' }] });
  await fhir(app, 'POST', '/fhir/Immunization', { resourceType: 'Immunization', status: 'completed', vaccineCode: { text: 'MMR' }, patient: { reference: 'Patient/paaypa' }, occurrenceDateTime: '2023-01-01' });
  await fhir(app, 'POST', '/fhir/Condition', { resourceType: 'Condition', code: { text: 'TB, treated' }, subject: { reference: 'Patient/amka' } });
  const params = (preview: boolean) => ({ resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/paaypa' } }, { name: 'target-patient', valueReference: { reference: 'Patient/amka' } }, { name: 'preview', valueBoolean: preview }] });
  const pre = await fhir(app, 'POST', '/fhir/Patient/$merge', params(true));
  t.equal(pre.status, 200);
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/paaypa')).body.link, 'preview changes nothing');
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$merge', params(false))).status, 200);
  const src = (await fhir(app, 'GET', '/fhir/Patient/paaypa')).body;
  t.same(src.link, [{ other: { reference: 'Patient/amka' }, type: 'replaced-by' }]);
  t.equal(src.active, false);
  t.same((await fhir(app, 'GET', '/fhir/Patient/amka')).body.link, [{ other: { reference: 'Patient/paaypa' }, type: 'replaces' }]);
  const kinds = async (q: string) => ((await fhir(app, 'GET', `/fhir/Patient/amka/$everything${q}`)).body.entry ?? []).map((e: any) => e.resource.resourceType).sort();
  t.same(await kinds(''), ['Condition', 'Patient']);
  t.same(await kinds('?followLinks=true'), ['Condition', 'Immunization', 'Patient', 'Patient'], 'both records, both compartments');
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$merge', { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/amka' } }, { name: 'target-patient', valueReference: { reference: 'Patient/amka' } }] })).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$merge', { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/none' } }, { name: 'target-patient', valueReference: { reference: 'Patient/amka' } }] })).status, 404);
});
