// Issue #14, leak 5: answers that reveal migration status. Questions the IG (or a stored
// Questionnaire) marks with the sensitivity code are answered in codes and free text, not in
// extensions; their answers are labelled inline on write (DS4P) and withheld from a client
// without the migration-data scope (X), with their nested items; Y sees them. $score works for
// Y and reveals nothing withheld to X. Both engines: stored Questionnaires are found by url.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { INLINE_LABEL } from '../../src/auth/sensitive.ts';

const ALL = 'system/*.cruds migfhir/migration-data.read';
const SENSITIVE = { system: 'https://migfhir.org/fhir/CodeSystem/sensitivity', code: 'migration' };
const ORDINAL = 'http://hl7.org/fhir/StructureDefinition/ordinalValue';
const CALCULATED = 'http://hl7.org/fhir/uv/sdc/StructureDefinition/sdc-questionnaire-calculatedExpression';
const YES = { system: 'http://terminology.hl7.org/CodeSystem/v2-0136', code: 'Y', display: 'Yes' };
const NO = { system: 'http://terminology.hl7.org/CodeSystem/v2-0136', code: 'N', display: 'No' };

const iha = JSON.parse(readFileSync(new URL('../../ig/package/Questionnaire-initial-health-assessment.json', import.meta.url), 'utf8'));
const legal = iha.item.find((g: any) => g.linkId === 'legal-situation');
const tb = iha.item.find((g: any) => g.linkId === 'tb');

const engines: [string, () => ResourceStore][] = [['SQLite', () => new SqliteStore({ path: ':memory:' })], ['MongoDB compiler on mingo', () => new MingoSearchStore()]];
const marked = (item: any) => !!item.extension?.some((e: any) => e.url === INLINE_LABEL && e.valueCoding?.code === 'migration');
const redacted = (r: any) => !!r.meta?.security?.some((s: any) => s.code === 'REDACTED');
/** what a client without the scope is shown: no label, no marker (src/auth/sensitive.ts) */
const showsNoLabel = (r: any) => !r.meta?.security?.some((s: any) => s.code === 'REDACTED' || s.code === 'migration' || s.code === 'R');

/** A scored screening with a sensitive question: without weights (`weighted` false) or scored. */
function screening(id: string, weighted: boolean) {
  const option = (c: typeof YES, score: number) => ({ valueCoding: c, extension: [{ url: ORDINAL, valueDecimal: score }] });
  return {
    resourceType: 'Questionnaire', id, url: `https://clinic.example/Questionnaire/${id}`, version: '1', status: 'active', name: id,
    item: [
      { linkId: 'q1', text: 'Trouble sleeping?', type: 'choice', required: true, answerOption: [option(NO, 0), option(YES, 2)] },
      { linkId: 'q2', text: 'Held in detention?', type: 'choice', required: true, code: [SENSITIVE], answerOption: weighted ? [option(NO, 0), option(YES, 3)] : [{ valueCoding: NO }, { valueCoding: YES }] },
      { linkId: 'total', text: 'Total', type: 'integer', readOnly: true, extension: [{ url: CALCULATED, valueExpression: { language: 'text/fhirpath', expression: `%resource.item.where(linkId in (${weighted ? "'q1' | 'q2'" : "'q1'"})).answer.value.weight().sum()` } }] },
    ],
  };
}

for (const [engine, store] of engines) {
  t.test(`${engine}: answers to sensitive questions are labelled and withheld`, async (t) => {
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: ALL }, { store: store() });
    const [x, y] = [await bearer('system/*.cruds'), await bearer(ALL)];
    t.ok(legal.code.some((c: any) => c.system === SENSITIVE.system && c.code === 'migration'), 'the IG marks the legal-situation questions');

    // the IG's initial health assessment: legal status and detention answered
    const [status, detention, notes] = legal.item;
    const qr = {
      resourceType: 'QuestionnaireResponse', id: 'r1', status: 'completed', questionnaire: `${iha.url}|${iha.version}`, subject: { reference: 'Patient/p1' }, authored: '2026-12-01',
      item: [
        { linkId: 'tb', item: [{ linkId: tb.item[0].linkId, answer: [{ valueCoding: NO }] }] },
        { linkId: 'legal-situation', item: [
          { linkId: status.linkId, answer: [{ valueCoding: { system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' } }] },
          { linkId: detention.linkId, answer: [{ valueCoding: YES }] },
          { linkId: notes.linkId, answer: [{ valueString: 'Appeal against the asylum decision pending' }] },
        ] },
      ],
    };
    const stored = await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r1', qr, y);
    t.equal(stored.status, 201, 'stored', { body: stored.body });
    t.ok(stored.body.meta.security.some((s: any) => s.code === 'migration'), 'the response is labelled on write');
    const group = stored.body.item.find((i: any) => i.linkId === 'legal-situation');
    t.ok(marked(group), 'the answers to the marked group carry the DS4P inline label (on the group: it goes whole)');
    t.notOk(marked(stored.body.item[0]), 'other answers are not marked');

    const seenY = (await fhir(app, 'GET', '/fhir/QuestionnaireResponse/r1', undefined, y)).body;
    t.ok(JSON.stringify(seenY).includes('asylum-applicant') && JSON.stringify(seenY).includes('Appeal'), 'Y sees the answers');
    const seenX = await fhir(app, 'GET', '/fhir/QuestionnaireResponse/r1', undefined, x);
    for (const s of ['asylum', 'Appeal', 'legal-situation', status.linkId]) t.notOk(seenX.raw.includes(s), `X: no '${s}'`);
    t.ok(showsNoLabel(seenX.body), 'X: no label says the response held such answers');
    t.match(seenX.headers['x-sensitive-data'], /^withheld/, 'X: the notice every answer carries');
    t.equal(seenX.body.item[0].item[0].answer[0].valueCoding.code, 'N', 'X: the other answers stay');
    const searched = await fhir(app, 'GET', '/fhir/QuestionnaireResponse?subject=Patient/p1', undefined, x);
    t.equal(searched.body.entry.length, 1);
    t.notOk(searched.raw.includes('asylum'), 'X: search results are redacted too');

    // a client without the scope writes such answers: they are labelled all the same
    const byX = await fhir(app, 'POST', '/fhir/QuestionnaireResponse', { ...qr, id: undefined }, x);
    t.equal(byX.status, 201);
    t.notOk(byX.raw.includes('asylum'), 'X does not get back what it may not see');
    const xStored = (await fhir(app, 'GET', `/fhir/QuestionnaireResponse/${byX.body.id}`, undefined, y)).body;
    t.ok(marked(xStored.item[1]), 'stored marked');

    // a stored Questionnaire found by url; the sensitive item nested under another answer
    const nestedQ = {
      resourceType: 'Questionnaire', id: 'nested', url: 'https://clinic.example/Questionnaire/nested', status: 'active', name: 'nested',
      item: [{ linkId: 'arrived', text: 'Arrived recently?', type: 'boolean', item: [{ linkId: 'route', text: 'Route and detention on the way', type: 'text', code: [SENSITIVE], item: [{ linkId: 'route-detail', text: 'Details', type: 'string' }] }] }],
    };
    t.equal((await fhir(app, 'PUT', '/fhir/Questionnaire/nested', nestedQ, y)).status, 201);
    const nestedR = {
      resourceType: 'QuestionnaireResponse', id: 'r2', status: 'completed', questionnaire: nestedQ.url,
      item: [{ linkId: 'arrived', answer: [{ valueBoolean: true, item: [{ linkId: 'route', answer: [{ valueString: 'Via Libya, held in Tarik al-Sikka', item: [{ linkId: 'route-detail', answer: [{ valueString: 'three months' }] }] }] }] }] }],
    };
    t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r2', nestedR, y)).status, 201);
    const r2X = await fhir(app, 'GET', '/fhir/QuestionnaireResponse/r2', undefined, x);
    t.notOk(r2X.raw.includes('Libya') || r2X.raw.includes('three months'), 'X: the nested answer goes with its nested items');
    t.equal(r2X.body.item[0].answer[0].valueBoolean, true, 'X: the answer above it stays');

    // a contained Questionnaire marks just as well
    const contained = { ...nestedR, id: 'r3', questionnaire: '#q', contained: [{ ...nestedQ, id: 'q' }] };
    t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/r3', contained, y)).status, 201);
    t.notOk((await fhir(app, 'GET', '/fhir/QuestionnaireResponse/r3', undefined, x)).raw.includes('Libya'), 'X: contained questionnaire: withheld');
    t.ok((await fhir(app, 'GET', '/fhir/Questionnaire/nested', undefined, x)).body.item[0].item, 'the Questionnaire itself is not withheld: it holds no patient data');

    // $score: Y scores; X scores over what it may see when the sensitive answer carries no score
    for (const [id, weighted] of [['plain', false], ['weighted', true]] as const) {
      t.equal((await fhir(app, 'PUT', `/fhir/Questionnaire/${id}`, screening(id, weighted), y)).status, 201);
      const resp = { resourceType: 'QuestionnaireResponse', id: `s-${id}`, status: 'completed', questionnaire: `https://clinic.example/Questionnaire/${id}|1`, subject: { reference: 'Patient/p1' }, item: [{ linkId: 'q1', answer: [{ valueCoding: YES }] }, { linkId: 'q2', answer: [{ valueCoding: YES }] }] };
      t.equal((await fhir(app, 'PUT', `/fhir/QuestionnaireResponse/s-${id}`, resp, y)).status, 201);
    }
    const scoreY = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/s-weighted/$score', undefined, y);
    t.equal(scoreY.status, 200, 'Y scores a response with a scored sensitive answer', { body: scoreY.body });
    t.equal(scoreY.body.valueInteger, 5);
    t.ok(scoreY.body.meta.security.some((s: any) => s.code === 'migration'), 'the score carries the response labels');
    const sent = { resourceType: 'QuestionnaireResponse', status: 'completed', questionnaire: 'https://clinic.example/Questionnaire/weighted|1', item: [{ linkId: 'q1', answer: [{ valueCoding: NO }] }, { linkId: 'q2', answer: [{ valueCoding: YES }] }] };
    const scoredSent = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/$score', sent, y);
    t.equal(scoredSent.body.valueInteger, 3);
    t.ok(scoredSent.body.meta.security.some((s: any) => s.code === 'migration'), 'the score of a response sent in the body is labelled as its write would be');
    const refused = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/s-weighted/$score', undefined, x);
    t.equal(refused.status, 403, 'X: a total that counts a withheld answer is refused, not faked');
    t.notOk(refused.raw.includes('YES') || refused.raw.includes('"Y"'), 'X: no answer in the refusal');
    const plainX = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/s-plain/$score', undefined, x);
    t.equal(plainX.status, 200, 'X scores when the sensitive answer does not count', { body: plainX.body });
    t.equal(plainX.body.valueInteger, 2);
    const plainY = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/s-plain/$score', undefined, y);
    t.equal(plainY.body.valueInteger, 2, 'the same total as Y', { body: plainY.body });
    const persisted = await fhir(app, 'POST', '/fhir/QuestionnaireResponse/s-plain/$score?persist=true', undefined, x);
    t.equal(persisted.status, 201, { body: persisted.body });
    const obs = (await fhir(app, 'GET', `/fhir/Observation/${persisted.body.id}`, undefined, y)).body;
    t.notOk(redacted(obs), 'no REDACTED label is stored with a score X persisted');
  });
}
