// The MLLP listener's mapping thread answers what mapMessage answers on the main thread: the
// same mapped message for every corpus message, the same Hl7Error (ack, code, location, text,
// header) for every refused one; and once the thread is gone, frames are mapped on the main
// thread.
import t from 'tap';
import { Hl7Error } from '../../src/mapping/hl7v2/errors.ts';
import { Hl7v2Mapper, mapHere, type MapResult } from '../../src/transport/hl7v2-mapper.ts';
import { bytesOf, FIXTURES } from '../mapping/hl7v2/fixtures.ts';

const RECEIVED = '2026-12-06T12:00:00.000Z';

function comparable(r: MapResult): unknown {
  if ('mapped' in r) return { mapped: r.mapped };
  const e = r.error as Hl7Error & { header?: unknown };
  return { hl7: e instanceof Hl7Error, ack: e.ack, code: e.code, location: e.location, message: e.message, header: e.header };
}

t.test('every corpus message: the same mapping or the same refusal on the thread', async (t) => {
  const mapper = new Hl7v2Mapper();
  t.teardown(() => mapper.close());
  await mapper.started();
  const messages = FIXTURES.map((f) => ({ name: f.name, bytes: bytesOf(f) }));
  const results = await Promise.all(messages.map((m) => mapper.map(m.bytes, RECEIVED)));
  let refused = 0;
  for (const [i, m] of messages.entries()) {
    const here = mapHere(m.bytes, RECEIVED);
    if ('error' in here) refused++;
    t.same(comparable(results[i]), comparable(here), m.name);
    if ('error' in results[i]) t.ok((results[i] as { error: unknown }).error instanceof Hl7Error, `${m.name}: an Hl7Error`);
  }
  t.ok(refused > 0 && refused < messages.length, 'the corpus has mapped and refused messages');
});

t.test('a closed mapper maps on the main thread', async (t) => {
  const mapper = new Hl7v2Mapper();
  await mapper.close();
  const f = FIXTURES.find((x) => !x.expect.ack)!;
  t.same(comparable(await mapper.map(bytesOf(f), RECEIVED)), comparable(mapHere(bytesOf(f), RECEIVED)));
});

t.test('frames sent together come back a few at a time, in order, not once all are mapped', async (t) => {
  const mapper = new Hl7v2Mapper();
  t.teardown(() => mapper.close());
  await mapper.started();
  const f = FIXTURES.find((x) => !x.expect.ack)!;
  // sent in one turn of the loop: one task for the thread, ~0.1–0.5 ms of mapping a frame
  let turn = 0;
  const ticking = setInterval(() => turn++, 0);
  t.teardown(() => clearInterval(ticking));
  const turns: number[] = [];
  await Promise.all(Array.from({ length: 300 }, () => mapper.map(bytesOf(f), RECEIVED).then(() => turns.push(turn))));
  t.equal(turns.length, 300);
  t.ok(new Set(turns).size > 1, `the first frames were answered before the last were mapped (${new Set(turns).size} hand-overs)`);
  t.same(turns, [...turns].sort((a, b) => a - b), 'answered in the order sent');
});
