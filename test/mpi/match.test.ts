import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { jaroWinkler, latinize, nameKeys, skeleton } from '../../src/mpi/names.ts';
import { compare } from '../../src/mpi/score.ts';
import { evaluate, population } from '../../scripts/match-population.ts';

t.test('names across scripts share a skeleton', async (t) => {
  const groups = [
    ['Mohammed', 'Muhammad', 'Mohamad', 'Μωχάμεντ', 'محمد', 'Мухаммед'],
    ['Olha', 'Olga', 'Ольга', 'Ολγα'],
    ['Ahmed', 'Ahmad', 'Ахмед', 'احمد'],
    ['Hussein', 'Husain', 'حسين'],
    ['Tesfaye', 'ተስፋዬ'],
    ['Shevchenko', 'Szewczenko', 'Шевченко', 'Σεφτσένκο'],
    ['Abdullah', 'عبدالله', 'Αμπντουλάχ'],
    ['Yusuf', 'Jusuf', 'Youssef'],
  ];
  for (const g of groups) {
    const keys = new Set(g.map(skeleton));
    t.equal(keys.size, 1, `${g.join(' / ')} → ${[...keys].join(', ')}`);
  }
  t.not(skeleton('Mohammed'), skeleton('Ahmed'));
  t.equal(latinize('Nguyễn'), 'nguyen');
  t.same(nameKeys('Al-Hassan Haddad'), ['ksn', 'kt'], 'one-consonant words (al) are no blocking key');
  t.ok(jaroWinkler('martha', 'marhta') > 0.96);
  t.equal(jaroWinkler('', 'x'), 0);
});

t.test('scoring: identifiers, swapped dates, defaults, conflicts', async (t) => {
  const base = { resourceType: 'Patient' as const, name: [{ family: 'Haddad', given: ['Amal'] }], gender: 'female' as const, birthDate: '1990-04-07' };
  // names agreeing only through transliteration, without an identifier, stay probable
  t.equal(compare(base, { ...base, name: [{ family: 'حداد', given: ['أمل'] }] }).grade, 'probable', 'Arabic script, same date');
  t.equal(compare(base, { ...base }).grade, 'certain', 'same names, same date');
  t.equal(compare(base, { ...base, birthDate: '1990-07-04' }).grade, 'probable', 'day and month swapped');
  t.equal(compare(base, { ...base, birthDate: '1990' }).grade, 'probable', 'year only');
  t.equal(compare(base, { ...base, birthDate: '1990-01-01' }).grade, 'probable', '1 January default');
  t.equal(compare(base, { ...base, birthDate: '1971-11-30' }).grade, 'possible', 'other birth date');
  t.equal(compare(base, { ...base, name: [{ family: 'Amal', given: ['Haddad'] }] }).grade, 'certain', 'family and given swapped');
  const id = { system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616', value: '90040712345' };
  t.equal(compare({ ...base, identifier: [id] }, { ...base, birthDate: '1990', identifier: [id] }).grade, 'certain');
  const other = compare({ ...base, identifier: [id] }, { ...base, identifier: [{ ...id, value: '11111111111' }] });
  t.not(other.grade, 'certain', 'a different national id is never certain');
  t.equal(compare(base, { resourceType: 'Patient', name: [{ family: 'Petrenko', given: ['Ivan'] }], gender: 'male', birthDate: '1960-01-02' }).grade, 'certainly-not');
});

t.test('Patient/$match over the API', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/gr1', { resourceType: 'Patient', id: 'gr1', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA123' }], name: [{ family: 'Μανσούρ', given: ['Φατιμά'] }], gender: 'female', birthDate: '1988-03-14' });
  await fhir(app, 'PUT', '/fhir/Patient/de1', { resourceType: 'Patient', id: 'de1', name: [{ family: 'Mansour', given: ['Fatma'] }], gender: 'female', birthDate: '1988-14-03'.replace('14-03', '03-14') });
  await fhir(app, 'PUT', '/fhir/Patient/x1', { resourceType: 'Patient', id: 'x1', name: [{ family: 'Mansour', given: ['Karim'] }], gender: 'male', birthDate: '1950-05-05' });
  const params = (resource: unknown, extra: unknown[] = []) => ({ resourceType: 'Parameters', parameter: [{ name: 'resource', resource }, ...extra] });
  const res = await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient', name: [{ family: 'Mansur', given: ['Fatima'] }], gender: 'female', birthDate: '1988-03-14' }));
  t.equal(res.status, 200);
  t.equal(res.body.type, 'searchset');
  const got = res.body.entry.map((e: any) => [e.resource.id, e.search.extension[0].valueCode]);
  t.same(got.slice(0, 2).map((x: string[]) => x[0]).sort(), ['de1', 'gr1']);
  t.ok(res.body.entry.every((e: any) => e.search.score > 0 && e.search.score <= 1 && e.search.extension[0].url === 'http://hl7.org/fhir/StructureDefinition/match-grade'));
  t.notOk(got.some((x: string[]) => x[0] === 'x1' && x[1] !== 'possible'), 'Karim Mansour born 1950 is no probable match');
  const only = await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient', identifier: [{ system: 'https://migfhir.org/fhir/sid/gr-paaypa', value: 'PA123' }], name: [{ family: 'Mansour', given: ['Fatima'] }], birthDate: '1988' }, [{ name: 'onlyCertainMatches', valueBoolean: true }]));
  t.same(only.body.entry.map((e: any) => e.resource.id), ['gr1'], 'only the certain identifier match');
  const one = await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient', name: [{ family: 'Mansour', given: ['Fatima'] }], birthDate: '1988-03-14' }, [{ name: 'count', valueInteger: 1 }]));
  t.equal(one.body.entry.length, 1);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [] })).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir/Patient/$match', params({ resourceType: 'Patient', bogus: 1 }))).status, 400);
});

t.test('precision and recall on a generated cross-border population', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const pop = population(300, 7);
  const regs = pop.records;
  await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry: regs.map((x) => ({ resource: x.patient, request: { method: 'PUT', url: `Patient/${x.patient.id}` } })) });
  const answers = new Map<string, { id: string; grade: string }[]>();
  for (const x of regs) {
    const { id: _id, ...input } = x.patient;
    void _id;
    const res = await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: input }] });
    answers.set(x.patient.id!, res.body.entry.map((e: any) => ({ id: e.resource.id, grade: e.search.extension[0].valueCode })).filter((a: { id: string }) => a.id !== x.patient.id));
  }
  const ev = evaluate(pop, answers);
  t.ok(ev.byGrade.certain.precision >= 0.99, `certain precision ${ev.byGrade.certain.precision}`);
  t.ok(ev.recallCertainProbable >= 0.93, `certain+probable recall ${ev.recallCertainProbable}`);
});
