import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';

const LOINC = 'http://loinc.org';
const PHQ9 = 'https://migfhir.org/fhir/Questionnaire/phq-9';
const GAD7 = 'https://migfhir.org/fhir/Questionnaire/gad-7';
const INTERPRETATION = 'https://migfhir.org/fhir/CodeSystem/score-interpretation';
const REFERRAL = 'https://migfhir.org/fhir/CodeSystem/referral-category';
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9']; // scores 0, 1, 2, 3

/** Item scores summing to `total`, as even as possible (so every answer code is used). */
function spread(items: number, total: number): number[] {
  return Array.from({ length: items }, (_, i) => Math.floor(total / items) + (i < total % items ? 1 : 0));
}

function response(questionnaire: string, prefix: string, scores: (number | undefined)[], extra: Record<string, unknown> = {}) {
  return {
    resourceType: 'QuestionnaireResponse',
    status: 'completed',
    questionnaire,
    subject: { reference: 'Patient/p1' },
    encounter: { reference: 'Encounter/e1' },
    authored: '2026-03-02T10:15:00Z',
    item: scores.flatMap((s, i) => (s === undefined ? [] : [{ linkId: `${prefix}-${i + 1}`, answer: [{ valueCoding: { system: LOINC, code: ANSWERS[s], display: 'x' } }] }])),
    ...extra,
  };
}

const phq9 = (total: number, extra?: Record<string, unknown>) => response(PHQ9, 'phq9', spread(9, total), extra);
const gad7 = (total: number) => response(GAD7, 'gad7', spread(7, total));

type App = Awaited<ReturnType<typeof testApp>>;
const score = (app: App, body: unknown, query = '') => fhir(app, 'POST', `/fhir/QuestionnaireResponse/$score${query}`, body);

function interpretationOf(obs: any): string | undefined {
  return obs.interpretation?.[0]?.coding?.find((c: any) => c.system === INTERPRETATION)?.code;
}
function referralOf(obs: any): string | undefined {
  return obs.component?.find((c: any) => c.code.coding?.[0]?.code === '3457005')?.valueCodeableConcept?.coding?.[0]?.code;
}

t.test('PHQ-9 at each cut-off boundary', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cases: [number, string, string | undefined][] = [
    [0, 'minimal', undefined], [4, 'minimal', undefined], [5, 'mild', undefined], [9, 'mild', 'mhpss' /* every item 1: item 9 raises the self-harm alert */],
    [10, 'moderate', 'mhpss'], [14, 'moderate', 'mhpss'], [15, 'moderately-severe', 'mhpss'], [19, 'moderately-severe', 'mhpss'],
    [20, 'severe', 'mhpss'], [27, 'severe', 'mhpss'],
  ];
  for (const [total, interpretation, referral] of cases) {
    const res = await score(app, phq9(total));
    t.equal(res.status, 200, `total ${total}`);
    const obs = res.body;
    t.equal(obs.resourceType, 'Observation');
    t.equal(obs.valueInteger, total, `total ${total} computed`);
    t.equal(interpretationOf(obs), interpretation, `${total} → ${interpretation}`);
    t.equal(referralOf(obs), referral, `${total} → referral ${referral ?? 'none'}`);
  }
  const obs = (await score(app, phq9(12))).body;
  t.same(obs.code, { coding: [{ system: LOINC, code: '44261-6' }], text: 'PHQ-9 total score' }, 'the total item\'s LOINC code and text');
  t.equal(obs.status, 'final');
  t.equal(obs.category[0].coding[0].code, 'survey');
  t.same(obs.subject, { reference: 'Patient/p1' });
  t.same(obs.encounter, { reference: 'Encounter/e1' });
  t.equal(obs.effectiveDateTime, '2026-03-02T10:15:00Z');
  t.ok(obs.issued);
  t.equal(obs.interpretation[0].coding[0].display, 'Moderate', 'display from the IG code system');
  t.equal(obs.interpretation[0].text, 'Moderate');
  t.equal(obs.component[0].valueCodeableConcept.coding[0].system, REFERRAL);
  t.equal(obs.component[0].valueCodeableConcept.coding[0].display, 'Mental health and psychosocial support');
  t.notOk(obs.derivedFrom, 'a response not stored has nothing to derive from');
  t.notOk(obs.id, 'nothing was stored');
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_summary=count')).body.total, 0);
});

t.test('PHQ-9 item 9 (self-harm) raises an alert whatever the total', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const alertOf = (obs: any) => obs.interpretation?.flatMap((i: any) => i.coding ?? []).find((c: any) => c.code === 'self-harm-risk');
  // total 1, all of it from item 9 ("Several days")
  let res = await score(app, response(PHQ9, 'phq9', [0, 0, 0, 0, 0, 0, 0, 0, 1]));
  t.equal(res.status, 200);
  t.equal(res.body.valueInteger, 1);
  t.equal(interpretationOf(res.body), 'minimal', 'the total is still minimal');
  t.ok(alertOf(res.body), 'and the self-harm alert is an interpretation too');
  t.equal(alertOf(res.body).display, 'Risk of self-harm');
  t.equal(referralOf(res.body), 'mhpss', 'a referral is suggested');
  const item9 = res.body.component.find((c: any) => c.code.coding?.[0]?.code === '44260-8');
  t.equal(item9?.valueCodeableConcept?.coding?.[0]?.code, 'self-harm-risk', 'the alerting item is a component');
  // item 9 "Not at all": no alert, even with a high total
  res = await score(app, response(PHQ9, 'phq9', [3, 3, 3, 3, 3, 3, 3, 3, 0]));
  t.equal(res.body.valueInteger, 24);
  t.notOk(alertOf(res.body), 'no alert when item 9 is "Not at all"');
  t.equal(referralOf(res.body), 'mhpss', 'the band still refers');
});

t.test('GAD-7 at each cut-off boundary', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const cases: [number, string, string | undefined][] = [
    [0, 'minimal', undefined], [4, 'minimal', undefined], [5, 'mild', undefined], [9, 'mild', undefined],
    [10, 'moderate', 'mhpss'], [14, 'moderate', 'mhpss'], [15, 'severe', 'mhpss'], [21, 'severe', 'mhpss'],
  ];
  for (const [total, interpretation, referral] of cases) {
    const res = await score(app, gad7(total));
    t.equal(res.status, 200);
    t.equal(res.body.valueInteger, total);
    t.equal(interpretationOf(res.body), interpretation, `${total} → ${interpretation}`);
    t.equal(referralOf(res.body), referral);
    t.equal(res.body.code.coding[0].code, '70274-6');
  }
});

t.test('the response in a Parameters resource; persist in the query or the Parameters', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const params = { resourceType: 'Parameters', parameter: [{ name: 'questionnaire-response', resource: phq9(7) }] };
  const res = await score(app, params);
  t.equal(res.status, 200);
  t.equal(res.body.valueInteger, 7);
  t.equal(interpretationOf(res.body), 'mild');
  const stored = await score(app, { ...params, parameter: [...params.parameter, { name: 'persist', valueBoolean: true }] });
  t.equal(stored.status, 201);
  t.equal((await score(app, params, '?persist=maybe')).status, 400);
  const unknown = await score(app, { resourceType: 'Parameters', parameter: [{ name: 'bogus', valueString: 'x' }] });
  t.equal(unknown.status, 400);
  t.equal((await score(app, { resourceType: 'Patient' })).status, 400);
  t.equal((await score(app, undefined)).status, 400, 'no response at all');
  const status = await score(app, phq9(7, { status: 'in-progress' }));
  t.equal(status.body.status, 'preliminary', 'an in-progress response gives a preliminary score');
  const eie = await score(app, phq9(7, { status: 'entered-in-error' }));
  t.equal(eie.status, 422);
});

t.test('a missing required answer is 422 naming the item', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const scores: (number | undefined)[] = spread(9, 12);
  scores[2] = undefined;
  const res = await score(app, response(PHQ9, 'phq9', scores));
  t.equal(res.status, 422);
  t.equal(res.body.resourceType, 'OperationOutcome');
  t.equal(res.body.issue.length, 1);
  t.equal(res.body.issue[0].code, 'required');
  t.match(res.body.issue[0].diagnostics, /'phq9-3'/);
  const empty = await score(app, { ...phq9(0), item: undefined });
  t.equal(empty.status, 422);
  t.equal(empty.body.issue.length, 9, 'every missing item is named');
  const twice = phq9(3);
  twice.item[0].answer.push({ valueCoding: { system: LOINC, code: ANSWERS[1], display: 'x' } });
  const multiple = await score(app, twice);
  t.equal(multiple.status, 422);
  t.match(multiple.body.issue[0].diagnostics, /'phq9-1' does not repeat/);
});

t.test('an unknown questionnaire is 422', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await score(app, response('https://example.org/Questionnaire/unknown', 'phq9', spread(9, 3)));
  t.equal(res.status, 422);
  t.equal(res.body.issue[0].code, 'not-found');
  t.same(res.body.issue[0].expression, ['QuestionnaireResponse.questionnaire']);
  const version = await score(app, response(`${PHQ9}|9.9.9`, 'phq9', spread(9, 3)));
  t.equal(version.status, 422, 'a version the server does not have');
  const ok = await score(app, response(`${PHQ9}|0.1.0`, 'phq9', spread(9, 3)));
  t.equal(ok.status, 200, 'the IG version');
  const none = await score(app, { ...phq9(3), questionnaire: undefined });
  t.equal(none.status, 422);
  t.equal(none.body.issue[0].code, 'required');
});

t.test('answers outside the answer options are 422', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const wrongCode = phq9(5);
  wrongCode.item[4].answer[0].valueCoding.code = 'LA9999-9';
  let res = await score(app, wrongCode);
  t.equal(res.status, 422);
  t.equal(res.body.issue[0].code, 'code-invalid');
  t.match(res.body.issue[0].diagnostics, /'phq9-5'/);
  t.same(res.body.issue[0].expression, ['QuestionnaireResponse.item[4].answer[0]']);
  const wrongSystem = phq9(5);
  wrongSystem.item[0].answer[0].valueCoding.system = 'http://snomed.info/sct';
  res = await score(app, wrongSystem);
  t.equal(res.status, 422, 'the right code in another system');
  const wrongType = phq9(5) as any;
  wrongType.item[1].answer[0] = { valueString: 'often' };
  res = await score(app, wrongType);
  t.equal(res.status, 422);
  t.match(res.body.issue[0].diagnostics, /'phq9-2'/);
  const unknownItem = phq9(5) as any;
  unknownItem.item.push({ linkId: 'phq9-10', answer: [{ valueInteger: 3 }] });
  res = await score(app, unknownItem);
  t.equal(res.status, 422);
  t.match(res.body.issue[0].diagnostics, /'phq9-10' is not in the questionnaire/);
});

t.test('persist=true stores the response and the Observation in one transaction', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await score(app, phq9(16), '?persist=true');
  t.equal(res.status, 201);
  t.match(res.headers.location, /^http:\/\/test\.local\/fhir\/Observation\/[^/]+\/_history\/1$/);
  const obs = res.body;
  t.ok(obs.id);
  const read = await fhir(app, 'GET', `/fhir/Observation/${obs.id}`);
  t.equal(read.status, 200);
  t.equal(read.body.valueInteger, 16);
  t.equal(interpretationOf(read.body), 'moderately-severe');
  t.equal(referralOf(read.body), 'mhpss');
  const ref = read.body.derivedFrom[0].reference;
  t.match(ref, /^QuestionnaireResponse\/[^/]+$/, 'derivedFrom points at the stored response');
  const qr = await fhir(app, 'GET', `/fhir/${ref}`);
  t.equal(qr.status, 200);
  t.equal(qr.body.questionnaire, PHQ9);
  const found = await fhir(app, 'GET', `/fhir/Observation?derived-from=${ref}&code=${LOINC}|44261-6`);
  t.equal(found.body.total, 1, 'searchable by derived-from and code');
  // a failing entry rolls both back
  const before = (await fhir(app, 'GET', '/fhir/QuestionnaireResponse?_summary=count')).body.total;
  const bad = await score(app, phq9(16, { foo: 1 }), '?persist=true');
  t.equal(bad.status, 400, 'a malformed response is refused before anything is written');
  t.equal((await fhir(app, 'GET', '/fhir/QuestionnaireResponse?_summary=count')).body.total, before);
});

t.test('a stored response scored by id; re-scoring replaces the earlier score', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r1', { ...gad7(11), id: 'r1' })).status, 201);
  const plain = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score');
  t.equal(plain.status, 200);
  t.equal(plain.body.valueInteger, 11);
  t.same(plain.body.derivedFrom, [{ reference: 'QuestionnaireResponse/r1/_history/1' }]);
  t.notOk(plain.body.id);
  const first = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score', { resourceType: 'Parameters', parameter: [{ name: 'persist', valueBoolean: true }] });
  t.equal(first.status, 201);
  t.equal(first.body.meta.versionId, '1');
  const again = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score?persist=true');
  t.equal(again.status, 200, 'the same score is not stored twice');
  t.equal(again.body.id, first.body.id);
  t.equal(again.body.meta.versionId, '1', 'an unchanged score writes no new version');
  t.equal(again.headers.location, `http://test.local/fhir/Observation/${first.body.id}/_history/1`);
  // the response is amended: its score follows
  t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r1', { ...gad7(3), id: 'r1', status: 'amended' })).status, 200);
  const amended = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score?persist=true');
  t.equal(amended.status, 200);
  t.equal(amended.body.id, first.body.id);
  t.equal(amended.body.valueInteger, 3);
  t.equal(interpretationOf(amended.body), 'minimal');
  t.notOk(amended.body.component, 'no referral suggested any more');
  t.same(amended.body.derivedFrom, [{ reference: 'QuestionnaireResponse/r1/_history/2' }]);
  const history = await fhir(app, 'GET', `/fhir/Observation/${first.body.id}/_history`);
  t.equal(history.body.total, 2, 'the earlier score stays in the history');
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_summary=count')).body.total, 1);
  t.equal((await fhir(app, 'POST', '/fhir/QuestionnaireResponse/nope/$score')).status, 404);
  const both = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score', gad7(3));
  t.equal(both.status, 400, 'instance level takes no response in the body');
});

t.test('a questionnaire stored on the server: groups, enableWhen, decimal weights, sum, security labels', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const url = 'https://example.org/Questionnaire/wellbeing';
  const option = (code: string, weight: number) => ({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/ordinalValue', valueDecimal: weight }], valueCoding: { system: 'https://example.org/answers', code } });
  const q = {
    resourceType: 'Questionnaire', id: 'wellbeing', url, version: '2', status: 'active', title: 'Well-being check',
    extension: [
      { url: 'https://migfhir.org/fhir/StructureDefinition/score-interpretation', extension: [{ url: 'item', valueString: 'total' }, { url: 'min', valueDecimal: 0 }, { url: 'max', valueDecimal: 2 }, { url: 'interpretation', valueCodeableConcept: { coding: [{ system: INTERPRETATION, code: 'minimal' }] } }] },
      { url: 'https://migfhir.org/fhir/StructureDefinition/score-interpretation', extension: [{ url: 'item', valueString: 'total' }, { url: 'min', valueDecimal: 3 }, { url: 'interpretation', valueCodeableConcept: { coding: [{ system: INTERPRETATION, code: 'severe' }] } }, { url: 'referral', valueCodeableConcept: { coding: [{ system: REFERRAL, code: 'social-services' }] } }] },
    ],
    item: [
      { linkId: 'g', type: 'group', required: true, item: [
        { linkId: 'sleep', type: 'choice', required: true, answerOption: [option('well', 0), option('badly', 2)] },
        { linkId: 'housing', type: 'boolean', required: true },
        { linkId: 'housing-worry', type: 'choice', required: true, enableWhen: [{ question: 'housing', operator: '=', answerBoolean: false }], answerOption: [option('no', 0), option('yes', 1.5)] },
      ] },
      { linkId: 'total', type: 'decimal', readOnly: true, code: [{ system: 'https://example.org/codes', code: 'wb-total' }], text: 'Well-being total' },
    ],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Questionnaire/wellbeing', q)).status, 201);
  const qr = (sleep: string, housing: boolean, worry?: string) => ({
    resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: `${url}|2`, subject: { reference: 'Patient/p2' },
    meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }] },
    item: [{ linkId: 'g', item: [
      { linkId: 'sleep', answer: [{ valueCoding: { system: 'https://example.org/answers', code: sleep } }] },
      { linkId: 'housing', answer: [{ valueBoolean: housing }] },
      ...(worry ? [{ linkId: 'housing-worry', answer: [{ valueCoding: { system: 'https://example.org/answers', code: worry } }] }] : []),
    ] }],
  });
  const housed = await score(app, qr('badly', true));
  t.equal(housed.status, 200, 'the disabled required item is not missing');
  t.equal(housed.body.valueQuantity.value, 2, 'the sum of the item weights; a decimal total is always a Quantity');
  t.notOk(housed.body.valueInteger);
  t.equal(interpretationOf(housed.body), 'minimal');
  t.same(housed.body.code, { coding: [{ system: 'https://example.org/codes', code: 'wb-total' }], text: 'Well-being total' });
  t.same(housed.body.meta.security, [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'PSY' }], 'the response\'s labels carry over');
  const missing = await score(app, qr('badly', false));
  t.equal(missing.status, 422, 'enabled now, so required');
  t.match(missing.body.issue[0].diagnostics, /'housing-worry'/);
  const worried = await score(app, qr('badly', false, 'yes'));
  t.equal(worried.status, 200);
  t.same(worried.body.valueQuantity, { value: 3.5, system: 'http://unitsofmeasure.org', code: '{score}', unit: '{score}' });
  t.equal(interpretationOf(worried.body), 'severe', 'a band without max');
  t.equal(referralOf(worried.body), 'social-services');
  t.equal(worried.body.method.text.startsWith('Sum'), true);
  const noGroup = await score(app, { ...qr('well', true), item: undefined });
  t.equal(noGroup.status, 422);
  t.match(noGroup.body.issue[0].diagnostics, /group 'g'/);
  // a broken calculatedExpression is the questionnaire's fault, reported as such
  const broken = { ...q, id: 'broken', url: 'https://example.org/Questionnaire/broken', item: [...q.item.slice(0, 1), { ...q.item[1], extension: [{ url: 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression', valueExpression: { language: 'text/fhirpath', expression: "%resource.item.answer.value.weight(" } }] }] };
  t.equal((await fhir(app, 'PUT', '/fhir/Questionnaire/broken', broken)).status, 201);
  const bad = await score(app, { ...qr('well', true), questionnaire: 'https://example.org/Questionnaire/broken' });
  t.equal(bad.status, 422);
  t.equal(bad.body.issue[0].code, 'processing');
  t.match(bad.body.issue[0].diagnostics, /calculatedExpression of item 'total'/);
  // a questionnaire contained in the response
  const { id: _id, url: _url, ...inner } = q;
  const contained = await score(app, { ...qr('badly', false, 'no'), questionnaire: '#q', contained: [{ ...inner, id: 'q' }] });
  t.equal(contained.status, 200, 'a contained questionnaire');
  t.equal(contained.body.valueQuantity.value, 2);
  // a questionnaire without scores
  t.equal((await fhir(app, 'PUT', '/fhir/Questionnaire/plain', { resourceType: 'Questionnaire', id: 'plain', url: 'https://example.org/Questionnaire/plain', status: 'active', item: [{ linkId: 'a', type: 'string' }] })).status, 201);
  const plain = await score(app, { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'https://example.org/Questionnaire/plain', item: [{ linkId: 'a', answer: [{ valueString: 'x' }] }] });
  t.equal(plain.status, 422);
  t.match(plain.body.issue[0].diagnostics, /defines no scores/);
});

t.test('$score is in the CapabilityStatement', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const md = await fhir(app, 'GET', '/fhir/metadata');
  const qr = md.body.rest[0].resource.find((r: any) => r.type === 'QuestionnaireResponse');
  t.ok(qr.operation.some((o: any) => o.name === 'score'));
});

t.test('$score is audited; with persist=true the AuditEvent commits with the write', async (t) => {
  const app = await testApp({ audit: 'on' });
  t.teardown(() => app.close());
  await score(app, phq9(3));
  const stored = await score(app, phq9(12), '?persist=true');
  t.equal(stored.status, 201);
  await app.fhir.audit!.flush();
  const events = (await fhir(app, 'GET', '/fhir/AuditEvent?_count=100')).body.entry.map((e: any) => e.resource);
  const ops = events.filter((e: any) => e.subtype[0].code === 'operation');
  t.equal(ops.length, 2, 'one AuditEvent per $score');
  t.ok(ops.some((e: any) => e.entity?.some((x: any) => x.what?.reference === `Observation/${stored.body.id}`)), 'the stored Observation is named');
  t.ok(ops.every((e: any) => e.entity?.some((x: any) => x.what?.reference === 'Patient/p1')), 'and the patient');
});

t.test('authorization: reading the stored response, writing the Observation', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: 'system/*.cruds' });
  const admin = await bearer('system/*.cruds');
  t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r1', { ...phq9(11), id: 'r1' }, admin)).status, 201);
  t.equal((await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score')).status, 401, 'a token is needed');
  const observer = await bearer('system/Observation.cruds');
  t.equal((await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score', undefined, observer)).status, 403, 'reading the stored response needs QuestionnaireResponse.r');
  const reader = await bearer('system/QuestionnaireResponse.r');
  const read = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score', undefined, reader);
  t.equal(read.status, 200);
  t.equal(read.body.valueInteger, 11);
  const refused = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score?persist=true', undefined, reader);
  t.equal(refused.status, 403, 'persisting needs Observation create');
  t.match(refused.body.issue[0].diagnostics, /create on Observation/);
  const inline = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/$score?persist=true', phq9(4), await bearer('system/Observation.cruds'));
  t.equal(inline.status, 403, 'storing a response sent in the body needs QuestionnaireResponse create');
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_summary=count', undefined, admin)).body.total, 0, 'nothing was written');
  const writer = await bearer('system/QuestionnaireResponse.r system/Observation.cus');
  const ok = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/r1/$score?persist=true', undefined, writer);
  t.equal(ok.status, 201);
  t.equal((await fhir(app, 'GET', `/fhir/Observation/${ok.body.id}`, undefined, admin)).body.valueInteger, 11);
});
