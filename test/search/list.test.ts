// _list (https://hl7.org/fhir/R4/search.html#list): the resources a List holds, combined with
// other parameters; several lists are an OR; deleted lists and removed entries stop counting.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

t.test('_list', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const [id, gender] of [['a', 'female'], ['b', 'male'], ['c', 'female']]) await fhir(app, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, gender });
  const list = (id: string, items: string[]) => ({ resourceType: 'List', id, status: 'current', mode: 'working', entry: items.map((i) => ({ item: { reference: `Patient/${i}` } })) });
  await fhir(app, 'PUT', '/fhir/List/l1', list('l1', ['a', 'b']));
  await fhir(app, 'PUT', '/fhir/List/l2', list('l2', ['c']));
  const ids = async (q: string) => ((await fhir(app, 'GET', `/fhir/Patient?${q}`)).body.entry ?? []).map((e: any) => e.resource.id).sort();
  t.same(await ids('_list=l1'), ['a', 'b']);
  t.same(await ids('_list=l1&gender=female'), ['a'], 'combined with another parameter');
  t.same(await ids('_list=l1,l2'), ['a', 'b', 'c'], 'several lists: OR');
  t.same(await ids('_list=nope'), []);
  await fhir(app, 'PUT', '/fhir/List/l1', list('l1', ['b']));
  t.same(await ids('_list=l1'), ['b'], 'a removed entry no longer counts');
  await fhir(app, 'DELETE', '/fhir/List/l1');
  t.same(await ids('_list=l1'), [], 'a deleted list holds nothing');
  const strict = await fhir(app, 'GET', '/fhir/Patient?_list=$current-problems', undefined, { prefer: 'handling=strict' });
  t.equal(strict.status, 400, 'functional lists: 400 in strict handling');
});
