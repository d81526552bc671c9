import t from 'tap';
import type { Patient } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { compare } from '../../src/mpi/score.ts';
import { parseGrades } from '../../src/mpi/match-settings.ts';
import { loadConfig } from '../../src/config.ts';
import { evaluate, population } from '../../scripts/match-population.ts';

const MATCH_GRADE = 'http://hl7.org/fhir/StructureDefinition/match-grade';
const EVIDENCE = 'https://migfhir.org/fhir/StructureDefinition/match-evidence';
const fatima: Patient = { resourceType: 'Patient', name: [{ family: 'Mansour', given: ['Fatima'] }], gender: 'female', birthDate: '1988-03-14' };
const grade = (a: Patient, b: Patient) => compare(a, b).grade;
const as = (family: string, given: string[], more: Partial<Patient> = {}): Patient => ({ ...fatima, name: [{ family, given }], ...more });

t.test('same person: hand-written pairs and their grades', async (t) => {
  const cases: [string, Patient, Patient, string][] = [
    ['the same record', fatima, fatima, 'certain'],
    ['Arabic script against Latin', fatima, as('منصور', ['فاطمة']), 'certain'],
    ['Greek-only registration against Latin', fatima, as('Μανσούρ', ['Φατιμά']), 'certain'],
    ['family and given fields swapped', fatima, as('Fatima', ['Mansour']), 'certain'],
    ['a second given name dropped', as('Mansour', ['Fatima', 'Amal']), fatima, 'certain'],
    ['a doubled letter', fatima, as('Mansour', ['Fattima']), 'certain'],
    ['Somali official orthography', as('Hirsi', ['Omar'], { gender: 'male' }), as('Xirsi', ['Cumar'], { gender: 'male' }), 'certain'],
    ['Osman / Cismaan', as('Warsame', ['Osman'], { gender: 'male' }), as('Warsame', ['Cismaan'], { gender: 'male' }), 'certain'],
    ['Ukrainian name in its Russian form, German transliteration', as('Polishchuk', ['Mykola'], { gender: 'male' }), as('Polischtschuk', ['Nikolay'], { gender: 'male' }), 'certain'],
    ['Polish transliteration of Cyrillic', as('Шевченко', ['Олена']), as('Szewczenko', ['Olena']), 'certain'],
    ['German Jegorow', as('Yehorov', ['Iryna']), as('Jegorow', ['Irina']), 'certain'],
    ['day and month swapped', { ...fatima, birthDate: '1988-04-07' }, { ...fatima, birthDate: '1988-07-04' }, 'probable'],
    ['birth date defaulted to 1 January', fatima, { ...fatima, birthDate: '1988-01-01' }, 'probable'],
    ['only the year known', fatima, { ...fatima, birthDate: '1988' }, 'probable'],
    ['the same day and month a year off', fatima, { ...fatima, birthDate: '1987-03-14' }, 'probable'],
    ['twins rule lifted: multipleBirth says a single birth, a similar given name is a variant', { ...as('Haddad', ['Hassan']), multipleBirthBoolean: false }, as('Haddad', ['Hasan']), 'certain'],
  ];
  for (const [what, a, b, expected] of cases) t.equal(grade(a, b), expected, what);
  const id = { system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '88031412345' };
  t.equal(grade({ ...fatima, identifier: [id] }, { ...fatima, birthDate: '1988', identifier: [id] }), 'certain', 'a shared identifier makes a partial date certain');
});

t.test('different people: hand-written pairs and their grades', async (t) => {
  const notMatched = (g: string) => g === 'possible' || g === 'certainly-not';
  const cases: [string, Patient, Patient][] = [
    ['twins: same family and birth date, another given name', as('Haddad', ['Amal']), as('Haddad', ['Rania'])],
    ['twins with similar names: Hassan / Hussein', as('Haddad', ['Hassan'], { gender: 'male' }), as('Haddad', ['Hussein'], { gender: 'male' })],
    ['twins with similar names: Lina / Lana', as('Haddad', ['Lina']), as('Haddad', ['Lana'])],
    ['twins across scripts: Lana / لينا', as('Haddad', ['Lana']), as('حداد', ['لينا'])],
    ['twins: Mykola / Mykhailo', as('Zhuk', ['Mykola'], { gender: 'male' }), as('Zhuk', ['Mykhailo'], { gender: 'male' })],
    ['birth order differs (multipleBirthInteger 1 and 2), same names', { ...fatima, multipleBirthInteger: 1 }, { ...fatima, multipleBirthInteger: 2 }],
    ['namesake: same name, another birth date', fatima, { ...fatima, birthDate: '1971-11-30' }],
    ['namesake: same name, same year, another day', fatima, { ...fatima, birthDate: '1988-09-22' }],
    ['namesake: same name, two 1 January defaults a year apart', { ...fatima, birthDate: '1988-01-01' }, { ...fatima, birthDate: '1987-06-30' }],
    ['unrelated', fatima, { resourceType: 'Patient', name: [{ family: 'Petrenko', given: ['Ivan'] }], gender: 'male', birthDate: '1960-01-02' }],
  ];
  for (const [what, a, b] of cases) {
    const r = compare(a, b);
    t.ok(notMatched(r.grade), `${what}: ${r.grade} (${r.weight})`);
  }
  const id = { system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '88031412345' };
  t.not(grade({ ...fatima, identifier: [id] }, { ...fatima, identifier: [{ ...id, value: '11111111111' }] }), 'certain', 'a different national number is never certain');
  t.equal(grade({ ...fatima, birthDate: '1988-01-01' }, { ...fatima, birthDate: '1988-01-01' }), 'probable', 'two 1 January defaults are no exact date');
});

t.test('evidence: each field agreed, partly agreed, disagreed or was missing', async (t) => {
  const r = compare(fatima, { ...as('Haddad', ['Fatma']), birthDate: '1988' });
  const by = Object.fromEntries(r.evidence.map((e) => [e.field, e]));
  t.equal(by.family.agreement, 'disagree');
  t.equal(by.given.agreement, 'agree');
  t.equal(by.given.level, 'phonetic');
  t.equal(by.birthDate.agreement, 'partial');
  t.equal(by.birthDate.level, 'yearOnly');
  t.equal(by.identifier.agreement, 'missing');
  t.equal(r.weight, r.evidence.reduce((s, e) => s + e.weight, 0), 'the weights add up');
});

t.test('grade thresholds: MIGFHIR_MATCH_GRADES', async (t) => {
  t.same(parseGrades('certain=14,probable=9'), { certain: 14, probable: 9, possible: 4 });
  t.throws(() => parseGrades('probable=20'), /certain > probable > possible/);
  t.throws(() => parseGrades('sure=3'), /expected certain=N/);
  t.throws(() => parseGrades('certain=high'), /expected certain=N/);
});

t.test('grade thresholds from the server option --match-grades', async (t) => {
  t.throws(() => loadConfig(['--match-grades', 'probable=20']), /--match-grades \/ MIGFHIR_MATCH_GRADES: thresholds must satisfy/);
  const strict = await testApp({ matchGrades: parseGrades('certain=40,probable=30,possible=20') });
  const usual = await testApp();
  t.teardown(async () => {
    await strict.close();
    await usual.close();
  });
  const patient = { resourceType: 'Patient', id: 'de1', name: [{ family: 'Mansour', given: ['Fatima'] }], gender: 'female', birthDate: '1988-03-14' };
  const query = { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { ...patient, id: undefined } }] };
  const grades = [];
  for (const app of [usual, strict]) {
    await fhir(app, 'PUT', '/fhir/Patient/de1', patient);
    const res = await fhir(app, 'POST', '/fhir/Patient/$match', query);
    grades.push((res.body.entry ?? []).map((e: any) => e.search.extension[0].valueCode).join(',') || 'none');
  }
  t.same(grades, ['certain', 'none'], 'the same candidate, graded by each server\'s thresholds');
});

t.test('Patient/$match over the API', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const put = (p: Patient) => fhir(app, 'PUT', `/fhir/Patient/${p.id}`, p);
  await put({ resourceType: 'Patient', id: 'de1', name: [{ family: 'Mansour', given: ['Fatima'] }], gender: 'female', birthDate: '1988-03-14' });
  await put({ resourceType: 'Patient', id: 'gr1', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA123' }], name: [{ family: 'Μανσούρ', given: ['Φατιμά'] }], gender: 'female', birthDate: '1988-03-14' });
  await put({ resourceType: 'Patient', id: 'sy1', name: [{ family: 'منصور', given: ['فاطمة'] }], gender: 'female', birthDate: '1988' });
  await put({ resourceType: 'Patient', id: 'twin', name: [{ family: 'Mansour', given: ['Amira'] }], gender: 'female', birthDate: '1988-03-14' });
  await put({ resourceType: 'Patient', id: 'namesake', name: [{ family: 'Mansour', given: ['Fatima'] }], gender: 'female', birthDate: '1950-05-05' });
  const params = (resource: unknown, extra: unknown[] = []) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource }, ...extra] });
  const match = async (resource: unknown, extra: unknown[] = []) => {
    const res = await fhir(app, 'POST', '/fhir/Patient/$match', params(resource, extra));
    t.equal(res.status, 200);
    return res.body;
  };
  const graded = (body: any) => Object.fromEntries((body.entry ?? []).map((e: any) => [e.resource.id, e.search.extension.find((x: any) => x.url === MATCH_GRADE).valueCode]));

  // the example: searching in Arabic for a patient stored in Latin
  const arabic = await match({ resourceType: 'Patient', name: [{ family: 'منصور', given: ['فاطمة'] }], birthDate: '1988-03-14' });
  t.equal(arabic.type, 'searchset');
  t.equal(graded(arabic).de1, 'certain', 'Arabic query finds the Latin record');
  t.equal(graded(arabic).gr1, 'certain', 'and the Greek-only one');
  t.ok(['certain', 'probable'].includes(graded(arabic).sy1), 'and the Arabic one with the year only');
  t.notOk(['certain', 'probable'].includes(graded(arabic).twin), 'the twin is no match');
  t.notOk(['certain', 'probable'].includes(graded(arabic).namesake), 'the namesake born in 1950 is no match');
  const text = await match({ resourceType: 'Patient', name: [{ text: 'منصور فاطمة' }], birthDate: '1988-03-14' });
  t.equal(graded(text).de1, 'certain', 'a name given only as text, family first');

  const latin = await match({ resourceType: 'Patient', name: [{ family: 'Mansoor', given: ['Fatma'] }], gender: 'female', birthDate: '1988-03-14' });
  const entry = latin.entry.find((e: any) => e.resource.id === 'de1');
  t.ok(entry.search.score > 0 && entry.search.score <= 1);
  t.equal(entry.search.mode, 'match');
  const evidence = entry.search.extension.find((x: any) => x.url === EVIDENCE);
  const field = (name: string) => Object.fromEntries(evidence.extension.find((x: any) => x.url === name).extension.map((x: any) => [x.url, x.valueCode ?? x.valueDecimal]));
  t.same(field('family'), { agreement: 'agree', level: 'phonetic', weight: 4 }, 'the registrar sees why: family agreed phonetically');
  t.equal(field('birthDate').level, 'exact');
  t.equal(field('identifier').agreement, 'missing');
  t.ok(latin.entry.every((e: any, i: number, a: any[]) => i === 0 || a[i - 1].search.score >= e.search.score), 'best first');

  const only = await match({ resourceType: 'Patient', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA123' }], name: [{ family: 'Mansour', given: ['Fatima'] }], birthDate: '1988' }, [{ name: 'onlyCertainMatches', valueBoolean: true }]);
  t.same(only.entry.map((e: any) => e.resource.id), ['gr1'], 'only the certain identifier match');
  const one = await match({ resourceType: 'Patient', name: [{ family: 'Mansour', given: ['Fatima'] }], birthDate: '1988-03-14' }, [{ name: 'count', valueInteger: 1 }]);
  t.equal(one.entry.length, 1);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [] })).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient', bogus: 1 }))).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient' }, [{ name: 'count', valueInteger: 0 }]))).status, 400);
});

t.test('$match results are redacted for clients without the migration-data scope', async (t) => {
  const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read' });
  const full = await bearer('system/*.cruds migfhir/migration-data.read');
  const plain = await bearer('system/Patient.rs');
  const patient = {
    resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad', given: ['Amal'] }], birthDate: '1990-04-07',
    extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] }],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, full)).status, 201);
  const res = await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'حداد', given: ['أمل'] }], birthDate: '1990-04-07' } }] }, plain);
  t.equal(res.status, 200);
  t.equal(res.body.entry[0].resource.id, 'p1');
  t.notOk(res.raw.includes('asylum-applicant'), 'no migration status in the match results');
  t.notOk(JSON.stringify(res.body.entry[0].search).includes('migration'), 'nor in the evidence');
});

t.test('precision, recall and absent people on a generated cross-border population', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const pop = population(300, 7);
  await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: pop.records.map((x) => ({ resource: x.patient, request: { method: 'PUT', url: `Patient/${x.patient.id}` } })) });
  const answers = new Map<string, { id: string; grade: string }[]>();
  const queries = [...pop.records.map((x) => [x.patient.id!, x.patient] as const), ...pop.absent.map((x) => [`absent:${x.patient.id}`, x.patient] as const)];
  for (const [key, patient] of queries) {
    const { id: _id, ...input } = patient;
    void _id;
    const res = await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: input }] });
    answers.set(key, (res.body.entry ?? []).map((e: any) => ({ id: e.resource.id, grade: e.search.extension.find((x: any) => x.url === MATCH_GRADE).valueCode })).filter((a: { id: string }) => a.id !== patient.id));
  }
  const ev = evaluate(pop, answers);
  // a small population: looser bounds than the bench's targets, as a guard against regressions
  t.ok(ev.byGrade.certain.precision >= 0.98, `certain precision ${ev.byGrade.certain.precision}`);
  t.ok(ev.recallCertainProbable >= 0.92, `certain+probable recall ${ev.recallCertainProbable}`);
  t.ok(ev.absentCertainProbable <= 0.06, `absent people answered certain/probable ${ev.absentCertainProbable}`);
});
