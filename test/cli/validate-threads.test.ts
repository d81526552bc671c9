// The thread pool of `migfhir validate` (src/cli/validate-threads.ts): workers do take batches of
// NDJSON lines, and what comes back is in input order with the issues one thread finds, whether
// the workers take every batch or share them with the main thread.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { issuesOf, type Item } from '../../src/cli/validate.ts';
import { threadsFor, validatedInOrder } from '../../src/cli/validate-threads.ts';
import { offlineValidator } from '../../src/validation/offline.ts';

const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const example = (f: string) => JSON.parse(readFileSync(join(examples, f), 'utf8'));

t.test('workers validate batches; the results come back in input order', async (t) => {
  const { validator } = offlineValidator();
  const names = ['Patient-example.json', 'Observation-example.json', 'Questionnaire-qs1.json', 'Encounter-example.json'];
  const entries: { item: Item; n: number }[] = [];
  for (let n = 0; n < 400; n++) {
    const r = example(names[n % names.length]);
    if (n % 5 === 0) r.status = `bad-${n}`;
    entries.push({ item: { label: `line ${n}`, line: n % 97 === 0 ? '{' : JSON.stringify(r) }, n });
  }
  const here = (item: Item) => issuesOf(validator, item, []);
  const one: string[] = [];
  for await (const e of validatedInOrder(entries, 1, here, { igs: [], profiles: [] })) one.push(`${e.n} ${JSON.stringify(e.issues)}`);
  const stats = { workerBatches: 0, workersOnly: true };
  const two: string[] = [];
  for await (const e of validatedInOrder(entries, 3, here, { igs: [], profiles: [] }, stats)) two.push(`${e.n} ${JSON.stringify(e.issues)}`);
  t.equal(stats.workerBatches, Math.ceil(entries.length / 32), 'two workers validated every batch');
  t.same(two, one, 'the same issues for every entry, in input order');
  const shared: string[] = [];
  for await (const e of validatedInOrder(entries, 2, here, { igs: [], profiles: [] })) shared.push(`${e.n} ${JSON.stringify(e.issues)}`);
  t.same(shared, one, 'shared between the main thread and a worker: the same');
  t.ok(one.some((l) => l.includes('bad-5')), 'the entries have issues to compare');
});

t.test('threads: one for small inputs, else one per core not busy with other work, at most four', async (t) => {
  t.equal(threadsFor(1_000_000, 2, 0), 1, 'a small input');
  t.equal(threadsFor(90_000_000, 2, 0.3), 2, 'two idle cores');
  t.equal(threadsFor(90_000_000, 2, 1.8), 1, 'one core busy elsewhere');
  t.equal(threadsFor(90_000_000, 2, 6), 1, 'an overloaded machine');
  t.equal(threadsFor(90_000_000, 16, 0), 4, 'at most four');
});
