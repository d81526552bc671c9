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
