import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

const ids = (res: any, mode = 'match') => (res.body.entry ?? []).filter((e: any) => e.search.mode === mode).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

t.test("another server's Patient/x is not our Patient/x", async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/mueller', { resourceType: 'Patient', id: 'mueller', name: [{ family: 'Müller' }] });
  await fhir(app, 'PUT', '/fhir/Observation/foreign', { resourceType: 'Observation', id: 'foreign', status: 'final', code: { text: 'x' }, subject: { reference: 'http://elsewhere.example/fhir/Patient/mueller' } });
  await fhir(app, 'PUT', '/fhir/Observation/ours', { resourceType: 'Observation', id: 'ours', status: 'final', code: { text: 'x' }, subject: { reference: 'http://test.local/fhir/Patient/mueller' } });
  await fhir(app, 'PUT', '/fhir/Observation/relative', { resourceType: 'Observation', id: 'relative', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/mueller' } });
  t.same(ids(await fhir(app, 'GET', '/fhir/Observation?subject=Patient/mueller')), ['Observation/ours', 'Observation/relative']);
  t.same(ids(await fhir(app, 'GET', '/fhir/Observation?subject:Patient.name=muller')), ['Observation/ours', 'Observation/relative']);
  t.same(ids(await fhir(app, 'GET', '/fhir/Patient/mueller/Observation')), ['Observation/ours', 'Observation/relative']);
  t.same(ids(await fhir(app, 'GET', '/fhir/Observation?subject=http://elsewhere.example/fhir/Patient/mueller')), ['Observation/foreign']);
  const inc = await fhir(app, 'GET', '/fhir/Observation?_id=foreign&_include=Observation:subject');
  t.same(ids(inc, 'include'), [], 'the local patient is not included for a foreign reference');
});

t.test('_include follows canonical references by url', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Questionnaire/phq9', { resourceType: 'Questionnaire', id: 'phq9', url: 'https://migfhir.org/fhir/Questionnaire/phq-9', status: 'active' });
  await fhir(app, 'PUT', '/fhir/Questionnaire/other', { resourceType: 'Questionnaire', id: 'other', url: 'https://migfhir.org/fhir/Questionnaire/gad-7', status: 'active' });
  await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r1', { resourceType: 'QuestionnaireResponse', id: 'r1', status: 'completed', questionnaire: 'https://migfhir.org/fhir/Questionnaire/phq-9|1.0' });
  const res = await fhir(app, 'GET', '/fhir/QuestionnaireResponse?_include=QuestionnaireResponse:questionnaire');
  t.same(ids(res, 'include'), ['Questionnaire/phq9']);
  t.same(ids(await fhir(app, 'GET', '/fhir/QuestionnaireResponse?questionnaire=https://migfhir.org/fhir/Questionnaire/phq-9')), ['QuestionnaireResponse/r1']);
});
