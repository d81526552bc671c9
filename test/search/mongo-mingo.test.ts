// Every case of the search table (cases.ts) run through the MongoDB engine's search path —
// compiler (src/search/mongo.ts), semi-joins, paging, includes (src/store/mongo/search.ts) —
// with the generated query documents evaluated by mingo over the fixtures in the engine's
// document layout, and compared with the SQLite engine's answer to the same request (and with
// the table's expected ids). No case is skipped: MINGO_GAPS would list, with the reason, any
// case that mingo cannot evaluate the way MongoDB would; today it is empty.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { testApp } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { answer, loadFixtures } from '../helpers/search-cases.ts';
import { CASES } from './cases.ts';

/** `category: name` → why mingo cannot stand in for MongoDB on that case. */
export const MINGO_GAPS: Record<string, string> = {};

/** Operators the compiler may emit; anything else (a user value in key position, $where,
 * $function, $accumulator, $expr) fails the shape check. */
const OPERATORS = new Set([
  '$match', '$project', '$unwind', '$addFields', '$sort', '$limit', '$count',
  '$and', '$or', '$nor', '$elemMatch', '$eq', '$ne', '$in', '$nin', '$gt', '$gte', '$lt', '$lte', '$exists', '$regex',
  '$ifNull', '$min', '$max', '$map', '$filter', '$literal', '$cond', '$concat', '$group',
]);
/** Field names of the layout (mongo-layout.ts; z: an entry's view mark) and of the pipelines' computed fields. */
const FIELDS = /^(_id|type|id|vid|lu|del|seq|rid|json|ae|p|z|n|x|s|c|d|ts|tc|lo|hi|v|cc|cv|clo|chi|rt|ri|ru|rv|is|iv|u|k\d|t|i|input|as|cond|in|s\d+|idx\.(string|token|date|number|quantity|reference|uri|composite)(\.(p|ri|z))?)$/;

function shapeErrors(value: unknown, path: string, out: string[]): void {
  if (Array.isArray(value)) value.forEach((v, i) => shapeErrors(v, `${path}[${i}]`, out));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k.startsWith('$') ? !OPERATORS.has(k) : !FIELDS.test(k)) out.push(`${path}.${k}`);
      // $literal holds values: never walked as a document
      if (k !== '$literal') shapeErrors(v, `${path}.${k}`, out);
    }
  }
}

async function mingoApp(store: MingoSearchStore): Promise<FastifyInstance> {
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  app.addHook('onClose', async () => store.close());
  return app;
}

const sets = [...new Set(CASES.map((c) => c.fixtures ?? 'core'))];
let compared = 0;

for (const set of sets) {
  t.test(`fixture set ${set}: MongoDB compiler on mingo against SQLite`, async (t) => {
    const store = new MingoSearchStore();
    const [sqlite, mongo] = await Promise.all([testApp(), mingoApp(store)]);
    t.teardown(async () => {
      await sqlite.close();
      await mongo.close();
    });
    await loadFixtures(sqlite, set);
    await loadFixtures(mongo, set);
    for (const c of CASES.filter((x) => (x.fixtures ?? 'core') === set)) {
      const name = `${c.category}: ${c.name}`;
      if (MINGO_GAPS[name]) {
        t.comment(`not evaluable by mingo (${name}): ${MINGO_GAPS[name]}`);
        continue;
      }
      const sent = store.pipelines.length;
      const want = await answer(sqlite, c);
      const got = await answer(mongo, c);
      compared++;
      const diag = { query: c.query, sqlite: want, mongo: got };
      t.equal(got.status, want.status, `${name}: status`, diag);
      if (c.ordered) t.same(got.matches, want.matches, `${name}: matches in order`, diag);
      else t.same([...got.matches].sort(), [...want.matches].sort(), `${name}: matches`, diag);
      if (want.status === 200) t.same([...got.matches].sort(), [...c.expected].sort(), `${name}: the table's expected ids`);
      t.same(got.included, want.included, `${name}: included`, diag);
      t.equal(got.total, want.total, `${name}: total`, diag);
      t.same(got.back, got.back === undefined ? undefined : got.matches, `${name}: previous links walk back the same sequence`);
      if (got.status === 200) t.ok(store.pipelines.length > sent, `${name}: answered by the MongoDB search path`);
      const errors: string[] = [];
      for (const p of store.pipelines.slice(sent)) shapeErrors(p, 'pipeline', errors);
      t.same(errors, [], `${name}: only the layout's fields and allowed operators`);
    }
  });
}

t.teardown(() => {
  console.log(`# MongoDB compiler on mingo: ${compared} of ${CASES.length} cases compared with SQLite; ${Object.keys(MINGO_GAPS).length} listed as not evaluable`);
});
