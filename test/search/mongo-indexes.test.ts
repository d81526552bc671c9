// Each query shape an index of `resources` declares it serves (MONGO_INDEXES[].serves, in
// src/search/mongo-layout.ts) is compiled to a query that index can serve: the query's first
// $match bounds the index's leading field; for the shapes about order, the $match bounds the
// leading fields by equality and the $sort straight after it follows the index's next fields,
// all forwards or all backwards — what MongoDB's planner needs to read a page in index order
// without an in-memory sort. (The other shapes sort their matches, a bounded set, in memory.) (An
// `explain` on a real server, test/store/contract.test.ts, is the final word.)
import t from 'tap';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { MONGO_INDEXES } from '../../src/search/mongo-layout.ts';
import type { Stage } from '../../src/search/mongo.ts';
import { fhir } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

/** a request of each declared shape */
/** the shapes whose point is the order of the page */
const ORDER_SHAPES = new Set(['unsorted page', '_sort=-_lastUpdated', '_sort=_id']);

const SHAPES: Record<string, string> = {
  'unsorted page': '/fhir/Patient',
  '_sort=-_lastUpdated': '/fhir/Patient?_sort=-_lastUpdated',
  '_sort=_id': '/fhir/Patient?_sort=_id',
  string: '/fhir/Patient?name=nouri',
  token: '/fhir/Patient?gender=female',
  date: '/fhir/Patient?birthdate=ge2000-01-01',
  reference: '/fhir/Observation?subject=Patient/p1',
  _revinclude: '/fhir/Patient?_id=p1&_revinclude=Observation:subject',
  uri: '/fhir/ValueSet?url=http://example.org/fhir/ValueSet/languages',
};

type Bound = 'eq' | 'range';

/** the fields a filter bounds in every match (under $and and $elemMatch; $or/$nor bound nothing for sure) */
function bounded(filter: Record<string, any>, prefix = '', out = new Map<string, Bound>()): Map<string, Bound> {
  for (const [k, v] of Object.entries(filter)) {
    if (k === '$and') for (const f of v) bounded(f, prefix, out);
    else if (k.startsWith('$')) continue;
    else if (v && typeof v === 'object' && '$elemMatch' in v) bounded(v.$elemMatch, `${prefix}${k}.`, out);
    else if (v === null || typeof v !== 'object' || '$eq' in v || '$in' in v) out.set(`${prefix}${k}`, 'eq');
    else if (['$gt', '$gte', '$lt', '$lte', '$regex'].some((op) => op in v)) out.set(`${prefix}${k}`, out.get(`${prefix}${k}`) ?? 'range');
  }
  return out;
}

function serves(key: Record<string, 1 | -1>, pipeline: Stage[], inOrder: boolean): boolean {
  const match = pipeline[0]?.$match as Record<string, any> | undefined;
  if (!match) return false;
  const fields = bounded(match);
  const keys = Object.keys(key);
  if (!fields.has(keys[0])) return false;
  if (!inOrder) return true;
  const sort = pipeline[1]?.$sort as Record<string, 1 | -1> | undefined;
  if (!sort) return false;
  let i = 0;
  while (i < keys.length && fields.get(keys[i]) === 'eq') i++;
  const order = Object.entries(sort);
  if (i + order.length > keys.length) return false;
  const way = order.map(([f, d], j) => (keys[i + j] === f ? d * key[f] : 0));
  return way.every((w) => w === 1) || way.every((w) => w === -1);
}

t.test('every declared query shape is one its index serves', async (t) => {
  const store = new MingoSearchStore();
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', gender: 'female' });
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' }, subject: { reference: 'Patient/p1' } });
  const declared = MONGO_INDEXES.flatMap((i) => (i.serves ?? []).map((shape) => ({ shape, index: i })));
  t.same(declared.map((d) => d.shape).sort(), Object.keys(SHAPES).sort(), 'a request for every declared shape');
  for (const { shape, index } of declared) {
    store.pipelines.length = 0;
    const res = await fhir(app, 'GET', SHAPES[shape]);
    t.equal(res.status, 200, `${shape}: answered`);
    t.ok(store.pipelines.some((p) => serves(index.key, p, ORDER_SHAPES.has(shape))), `${shape}: a query served by index ${index.name}`, { pipelines: JSON.stringify(store.pipelines) });
  }
  // and the check is not vacuous: a shape the index cannot serve is told apart
  const token = MONGO_INDEXES.find((i) => i.name === 'token')!;
  store.pipelines.length = 0;
  await fhir(app, 'GET', '/fhir/Patient?_sort=-_lastUpdated');
  t.notOk(store.pipelines.some((p) => serves(token.key, p, false)), 'the token index does not serve a search without a token');
  const computed = { $match: { type: { $eq: 'Patient' }, del: false } };
  t.notOk(serves(MONGO_INDEXES.find((i) => i.name === 'type_lastUpdated_rid')!.key, [computed, { $sort: { lu: -1, rid: 1 } }], true), 'nor an index a mixed-direction sort');
});
