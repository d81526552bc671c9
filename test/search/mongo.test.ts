// The MongoDB compiler keeps request values in value position: operator-looking text such as
// `$gt` or `{"$ne":1}` is compared literally (never read as an operator or a field path), both
// in the generated documents and when mingo evaluates them; semi-joins are bounded.
import t from 'tap';
import { Aggregator } from 'mingo';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { compileSearch, runJoins, type Stage } from '../../src/search/mongo.ts';
import type { SearchQuery } from '../../src/search/ir.ts';
import { fhir } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

const query = (conditions: SearchQuery['conditions'], extra: Partial<SearchQuery> = {}): SearchQuery => ({
  types: ['Patient'], conditions, sort: [], count: 10, total: 'none', include: [], revinclude: [], ...extra,
});

/** every object key in a document tree */
function keys(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) keys(v, out);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) out.push(k), keys(v, out);
  return out;
}

const HOSTILE = ['$gt', '{"$ne":1}', '$where', '$$ROOT', '$idx.p', 'a.b', '.*', '^(a+)+$'];

t.test('hostile values stay values in the generated documents', async (t) => {
  const compile = (v: string) => compileSearch(query([
      { kind: 'string', params: ['Patient.name'], values: [v] },
      { kind: 'stringContains', params: ['Patient.name'], values: [v] },
      { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ system: v, code: v }] },
      { kind: 'reference', params: ['Patient.general-practitioner'], values: [{ kind: 'local', type: 'Practitioner', id: v }] },
      { kind: 'id', values: [v], not: false },
    ], { sort: [{ params: ['Patient.name'], table: 'string', descending: false }] }), { after: [v, 1] });
  const benign = keys(compile('abc').pipeline);
  for (const v of HOSTILE) {
    const c = compile(v);
    const all = keys(c.pipeline);
    t.same(all, benign, `${v}: the same document shape (keys) as a plain value`);
    t.notOk(all.some((k) => ['$where', '$function', '$accumulator', '$expr'].includes(k)), 'no server-side JavaScript or $expr');
    const text = JSON.stringify(c.pipeline);
    t.ok(text.includes(JSON.stringify({ $eq: v })), `${v} is compared with $eq`);
    // the regex of :contains matches the text literally
    const regex = (c.pipeline[0] as any).$match.$and.find((x: any) => JSON.stringify(x).includes('$regex'))['idx.string'].$elemMatch.$and[1].n.$regex;
    t.ok(new RegExp(regex).test(`xx${v}yy`), `${v} as a literal in the :contains regex`);
    t.notOk(new RegExp(regex).test('zzz'), 'and nothing else');
  }
});

t.test('operator-looking search values match literally through the REST API (mingo)', async (t) => {
  const store = new MingoSearchStore();
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(() => app.close());
  for (const [id, family] of [['p1', '$gt'], ['p2', '{"$ne":1}'], ['p3', 'Smith']]) {
    const r = await fhir(app, 'PUT', `/fhir/Patient/${id}`, { resourceType: 'Patient', id, name: [{ family }], identifier: [{ system: 'urn:x', value: family }] });
    t.equal(r.status, 201);
  }
  const ids = async (qs: string) => {
    const r = await fhir(app, 'GET', `/fhir/Patient?${qs}`);
    t.equal(r.status, 200, qs);
    return (r.body.entry ?? []).map((e: any) => e.resource.id).sort();
  };
  t.same(await ids(`name=${encodeURIComponent('$gt')}`), ['p1'], 'name=$gt is the text "$gt"');
  t.same(await ids(`name:exact=${encodeURIComponent('{"$ne":1}')}`), ['p2'], 'a JSON operator is text');
  t.same(await ids(`identifier=${encodeURIComponent('{"$ne":1}')}`), ['p2'], 'in a token too');
  t.same(await ids(`_id=${encodeURIComponent('{"$ne":1}')}`), [], '_id compares literally');
  t.same(await ids(`name:contains=${encodeURIComponent('.*')}`), [], 'regex syntax in :contains is literal');
  t.same(await ids(`name:contains=${encodeURIComponent('$')}`), ['p1', 'p2'], '$ in :contains is a character');
});

t.test('a semi-join larger than the bound is refused, not sent as a huge $in', async (t) => {
  const docs = Array.from({ length: 5 }, (_, i) => ({ _id: `Patient/p${i}`, type: 'Patient', id: `p${i}`, del: false, rid: i, idx: { token: [{ p: 'Patient.gender', c: 'female' }] } }));
  const plan = compileSearch({
    types: ['Observation'], count: 10, total: 'none', include: [], revinclude: [], sort: [],
    conditions: [{ kind: 'chain', params: ['Observation.subject'], targetTypes: ['Patient'], condition: { kind: 'token', params: ['Patient.gender'], not: false, values: [{ code: 'female' }] } }],
  });
  const aggregate = async (p: Stage[]) => new Aggregator(p).run(docs) as any[];
  const ok = await runJoins(plan, aggregate, 5, () => new Error('too costly'));
  t.equal(ok.results[0].length, 5, 'five targets fit a bound of five');
  await t.rejects(runJoins(plan, aggregate, 4, () => new Error('too costly')), /too costly/);
});

t.test('_has counts distinct resources against the bound, not reference entries', async (t) => {
  // five Observations about one Patient: one row once duplicates are removed
  const docs = [
    { _id: 'Patient/p0', type: 'Patient', id: 'p0', del: false, rid: 0 },
    ...Array.from({ length: 5 }, (_, i) => ({
      _id: `Observation/o${i}`, type: 'Observation', id: `o${i}`, del: false, rid: i + 1,
      idx: { token: [{ p: 'Observation.status', c: 'final' }], reference: [{ p: 'Observation.subject', rt: 'Patient', ri: 'p0' }] },
    })),
  ];
  const plan = compileSearch(query([
    { kind: 'has', sourceType: 'Observation', params: ['Observation.subject'], condition: { kind: 'token', params: ['Observation.status'], not: false, values: [{ code: 'final' }] } },
  ]));
  const aggregate = async (p: Stage[]) => new Aggregator(p).run(docs) as any[];
  const ok = await runJoins(plan, aggregate, 1, () => new Error('too costly'));
  t.same(ok.results[0], [{ t: 'Patient', i: 'p0' }], 'one Patient, within a bound of one');
});

t.test('query shapes the indexes serve: _id seeks its keys, _sort on _lastUpdated and _id sorts the fields', async (t) => {
  const byId = compileSearch(query([{ kind: 'id', not: false, values: ['a', 'b'] }], { types: ['Patient', 'Group'] }));
  t.same((byId.pipeline[0].$match as any).$and?.find((f: any) => f._id) ?? (byId.pipeline[0].$match as any), { _id: { $in: ['Patient/a', 'Patient/b', 'Group/a', 'Group/b'] } }, '_id=a,b: a seek per document key');
  for (const [param, field] of [['_lastUpdated', 'lu'], ['_id', 'id']]) {
    const sorted = compileSearch(query([], { sort: [{ params: [param], descending: true }] }));
    t.notOk(sorted.pipeline.some((s) => '$addFields' in s), `_sort=-${param}: no computed sort value`);
    t.same(sorted.pipeline.find((s) => '$sort' in s), { $sort: { [field]: -1, rid: -1 } }, `_sort=-${param}: sorted on ${field}, then rid, both one way (one index read backwards)`);
  }
});
