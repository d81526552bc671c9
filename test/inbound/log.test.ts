// The inbound message log's bounds on both engines: entries older than the days kept go, and
// all but the newest `max`; pruning runs after every append and from the server's timer.
import t from 'tap';
import type { OperationOutcome } from 'fhir/r4.js';
import { InboundLog, headerFields, MAX_CONTENT_BYTES, timeOrderedId } from '../../src/inbound/log.ts';
import type { Ingested } from '../../src/operations/hl7v2.ts';
import { ENGINES } from './engines.ts';

const DAY = 86_400_000;

const refused = (): Ingested => ({
  ackCode: 'AE',
  ack: 'MSH|…',
  response: { status: 422, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'required', diagnostics: 'PID is required', expression: ['PID'] }] } as OperationOutcome },
});
const message = (id: string) => Buffer.from(`MSH|^~\\&|HIS|ATTIKON|MIGFHIR|EU|20240312101500||ADT^A01^ADT_A01|${id}|P|2.5\rEVN|A01`);

for (const engine of ENGINES) {
  t.test(`${engine.name}: pruned by age and by count`, async (t) => {
    const store = await engine.open();
    t.teardown(() => store.close());
    let now = Date.parse('2026-03-01T12:00:00Z');
    const errors: Error[] = [];
    const log = new InboundLog(store.messageLog!(), { days: 7, max: 3 }, (err) => errors.push(err), () => now);
    const at = () => new Date(now).toISOString();
    await log.recordHl7v2('http', [{ bytes: message('OLD-1'), received: at(), result: refused() }]);
    now += 2 * DAY;
    await log.recordHl7v2('mllp', [{ bytes: message('MID-1'), received: at(), result: refused() }, { bytes: message('MID-2'), received: at(), result: refused() }]);
    const ids = async () => (await log.list({ count: 100 })).map((e) => e.controlId);
    t.same(await ids(), ['MID-2', 'MID-1', 'OLD-1'], 'within both bounds: all kept, newest first');
    now += 6 * DAY;
    t.equal(await log.prune(), 1, 'eight days on, the first is past seven days');
    t.same(await ids(), ['MID-2', 'MID-1']);
    await log.recordHl7v2('http', [{ bytes: message('NEW-1'), received: at(), result: refused() }, { bytes: message('NEW-2'), received: at(), result: refused() }]);
    t.same(await ids(), ['NEW-2', 'NEW-1', 'MID-2'], 'past three entries the oldest go, on append');
    t.equal((await log.read((await log.list({ count: 1 }))[0].id))?.content?.toString(), message('NEW-2').toString(), 'the content is kept as received');
    now += 8 * DAY;
    t.equal(await log.prune(), 3, 'the server\'s timer prunes without new messages');
    t.same(await ids(), []);
    t.same(errors, []);
  });

  t.test(`${engine.name}: a message larger than the log keeps is listed without its content`, async (t) => {
    const store = await engine.open();
    t.teardown(() => store.close());
    const log = new InboundLog(store.messageLog!(), { days: 7, max: 10 }, (err) => t.fail(err.message));
    const big = Buffer.concat([message('BIG-1'), Buffer.from(`\rNTE|1||${'x'.repeat(MAX_CONTENT_BYTES)}`)]);
    await log.recordHl7v2('http', [{ bytes: big, received: new Date().toISOString(), result: refused() }]);
    await log.recordNational({ body: { resourceType: 'Bundle', type: 'collection' }, adapter: 'de', received: new Date().toISOString(), declaredBytes: MAX_CONTENT_BYTES + 1 }, { error: new Error('x') });
    const [national, hl7] = await log.list({ count: 10 });
    t.match(hl7, { controlId: 'BIG-1', size: big.length, contentKept: false });
    t.match(national, { kind: 'national', event: 'de', size: MAX_CONTENT_BYTES + 1, contentKept: false });
    t.equal((await log.read(hl7.id))?.content, undefined, 'no content kept');
  });

  t.test(`${engine.name}: a bound of 0 turns the log off`, async (t) => {
    const store = await engine.open();
    t.teardown(() => store.close());
    for (const bounds of [{ days: 0, max: 10 }, { days: 7, max: 0 }]) {
      const log = new InboundLog(store.messageLog!(), bounds, (err) => t.fail(err.message));
      t.equal(log.enabled, false);
      await log.recordHl7v2('http', [{ bytes: message('OFF-1'), received: new Date().toISOString(), result: refused() }]);
    }
    t.same(await store.messageLog!().list({ count: 10 }), [], 'nothing stored');
  });
}

t.test('the header fields of a message as the sender wrote them, refused or not', async (t) => {
  t.same(headerFields(message('HDR-1')), { sender: 'HIS^ATTIKON', controlId: 'HDR-1', event: 'ADT^A01' });
  t.same(headerFields(Buffer.from('MSH#:~\\&#APP:X#FAC##')), { sender: 'APP^FAC', controlId: undefined, event: undefined }, 'the delimiters MSH-1 and MSH-2 declare');
  t.same(headerFields(Buffer.from('not a message')), {});
  t.equal(headerFields(Buffer.from(`MSH|^~\\&|${'A'.repeat(1000)}|F`)).sender?.length, 200, 'a field is kept to 200 characters');
});

t.test('ids sort in the order they were made', async (t) => {
  const ids = Array.from({ length: 2000 }, () => timeOrderedId(1_700_000_000_000));
  t.same([...ids].sort(), ids);
  t.match(ids[0], /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, 'a UUID (version 7 layout)');
});
