import t from 'tap';
import { Auditor, type AuditInput, type AuditSink, type QueuedAudit } from '../../src/audit/audit.ts';
import { BATCH_BYTES, decodeEvents, EventBatch, EventIds, eventId } from '../../src/audit/event-buffer.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const full: AuditInput = {
  kind: 'login',
  interaction: 'login',
  action: 'E',
  status: 429,
  clientId: 'clínica-ñ',
  purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT', 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|care|extra'],
  address: '::ffff:10.0.0.7',
  what: 'Patient/p1',
  patient: 'Patient/p2',
  query: `name=${'Ḥaddād'.repeat(40)}&birthdate=ge1990`,
  sensitive: true,
  description: '12 token requests refused past the limit — "quoted" \u2028 and 💡',
  period: { start: 1_765_000_000_000, end: 1_765_000_060_123 },
};

t.test('every field of an event comes back from the buffer as it was queued', async (t) => {
  const batch = new EventBatch();
  batch.node = 0x01020304;
  const minimal: AuditInput = { interaction: 'read', action: 'R', status: 200 };
  t.ok(batch.add(full, 1_765_000_000_500, 42));
  t.ok(batch.add(minimal, 1_765_000_000_501, 43));
  t.equal(batch.count, 2);
  const [a, b] = decodeEvents(batch.buffer, batch.size, batch.node);
  t.same(a, { ...full, id: eventId(1_765_000_000_500, 42, 0x01020304), at: 1_765_000_000_500 });
  t.strictSame(b, { ...minimal, id: eventId(1_765_000_000_501, 43, 0x01020304), at: 1_765_000_000_501 }, 'absent fields stay absent');
  t.same(batch.events(), [a, b], 'the main thread reads the same events from the same bytes');
});

t.test('ids are UUID v7: the time in front, unique and growing within a trail, the same from the same bytes', async (t) => {
  const ids = new EventIds();
  const other = new EventIds();
  const at = Date.UTC(2026, 11, 7, 6, 0, 0, 123);
  const made: string[] = [];
  for (let i = 0; i < 1000; i++) made.push(eventId(at + Math.floor(i / 100), ids.next(), ids.node));
  t.ok(made.every((id) => UUID_V7.test(id)), 'each a UUID v7');
  t.equal(new Set(made).size, made.length, 'unique');
  t.same([...made].sort(), made, 'in the order queued, also within one millisecond');
  t.equal(parseInt(made[0].replace('-', '').slice(0, 12), 16), at, 'the first 48 bits are the epoch ms');
  const counter = ids.next();
  t.equal(eventId(at, counter, ids.node), eventId(at, counter, ids.node));
  t.not(eventId(at, counter, ids.node), eventId(at, counter, other.node), 'another trail makes other ids');
});

t.test('a batch refuses an event that may not fit; the Auditor starts another, and gives a larger event a buffer of its own', async (t) => {
  const small = new EventBatch(256);
  t.ok(small.add({ interaction: 'read', action: 'R', status: 200, what: 'Patient/p1' }, 1, 1));
  const size = small.size;
  t.notOk(small.add({ interaction: 'search-type', action: 'R', status: 200, query: 'x'.repeat(200) }, 2, 2));
  t.equal(small.size, size, 'nothing written');
  t.equal(small.count, 1);

  const written: QueuedAudit[][] = [];
  const sink: AuditSink = {
    inTransaction: async () => undefined,
    write: async (batch) => void written.push(batch),
    close: async () => undefined,
  };
  const auditor = new Auditor(sink);
  const query = `_id=${'a'.repeat(BATCH_BYTES)}`;
  const events = 700;
  for (let i = 0; i < events; i++) auditor.later({ interaction: 'search-type', action: 'R', status: 200, clientId: 'c', query: i === 350 ? query : `_id=p${i}` });
  await auditor.flush();
  const all = written.flat();
  t.equal(all.length, events, 'every event stored');
  t.same(all.map((e) => e.query), Array.from({ length: events }, (_, i) => (i === 350 ? query : `_id=p${i}`)), 'in the order queued');
  t.equal(new Set(all.map((e) => e.id)).size, events, 'each with its own id');
  t.equal(auditor.pending, 0);
});
