// HL7 v2 batch files on $hl7v2-ingest ([FHS] BHS MSH… BTS [FTS]), against a real (in-memory
// SQLite) store: each message applied as if sent alone (a refused one leaves the others
// applied), answered by a batch-response Bundle or the batch of ACKs; a broken envelope is one
// AR with nothing stored; a batch sent again applies nothing twice; each message keeps its own
// character set and the inbound message log has an entry per message.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { encode, evn, msh, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';
import { MAX_BATCH_MESSAGES } from '../../src/mapping/hl7v2/batch.ts';

const ER7 = 'x-application/hl7-v2+er7';

const a01 = (id: string, mrn: string, family = 'Haddad') => [msh('A01', id), evn('A01'), pid({ ids: `${mrn}^^^ATTIKON^MR`, names: `${family}^Omar`, dob: '19900101', sex: 'M' }), pv1({ cls: 'I', visit: `V-${id}^^^ATTIKON` })].join('\r');
/** no PID: AE (101), nothing of it stored */
const noPid = (id: string) => [msh('A01', id), evn('A01'), pv1({ cls: 'I', visit: 'V1^^^ATTIKON' })].join('\r');
const bhs = (id: string) => `BHS|^~\\&|HIS|ATTIKON|MIGFHIR|EU|20240312101500+0200||||${id}`;
const fhs = (id: string) => `FHS|^~\\&|HIS|ATTIKON|MIGFHIR|EU|20240312101500+0200||||${id}`;
const bts = (n: number | string) => `BTS|${n}`;
const text = (...segments: string[]) => `${segments.join('\r')}\r`;

async function post(app: FastifyInstance, body: string | Buffer, accept?: string) {
  const res = await app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, ...(accept ? { accept } : {}) }, payload: typeof body === 'string' ? Buffer.from(body) : body });
  let json: any;
  try {
    json = JSON.parse(res.body);
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, body: json, raw: res.body, type: res.headers['content-type'] };
}

async function counts(app: FastifyInstance) {
  const n = async (type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total as number;
  return { patients: await n('Patient'), encounters: await n('Encounter'), provenance: await n('Provenance') };
}

const segs = (ack: string) => ack.split('\r').filter(Boolean);
const field = (seg: string, n: number) => seg.split('|')[n];
/** field n of a header segment (MSH, BHS, FHS), whose field 1 is the separator itself */
const hfield = (seg: string, n: number) => seg.split('|')[n - 1];

t.test('a 3-message batch with one AE: the others applied, each answered as alone (JSON batch-response)', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await post(app, text(bhs('B1'), a01('M1', 'MRN1'), noPid('M2'), a01('M3', 'MRN3', 'Karimi'), bts(3)));
  t.equal(res.status, 200, 'the batch was read');
  t.equal(res.body.resourceType, 'Bundle');
  t.equal(res.body.type, 'batch-response');
  t.same(res.body.entry.map((e: any) => e.response.status), ['200 OK', '422 Unprocessable Entity', '200 OK'], 'the status each message gets alone');
  t.equal(res.body.entry[0].resource.type, 'transaction-response', 'an applied message: its transaction-response');
  t.equal(res.body.entry[1].resource, undefined);
  t.match(res.body.entry[1].response.outcome.issue[0], { severity: 'error', expression: ['PID'] }, 'a refused message: its OperationOutcome');
  t.same(await counts(app), { patients: 2, encounters: 2, provenance: 2 }, 'the two good messages were applied');
  const log = (await fhir(app, 'GET', '/fhir/$inbound-messages')).body;
  const entries = log.parameter.filter((p: any) => p.name === 'message').map((m: any) => Object.fromEntries(m.part.map((p: any) => [p.name, p.valueString ?? p.valueCode])));
  t.same(entries.map((e: any) => [e.controlId, e.ack]), [['M3', 'AA'], ['M2', 'AE'], ['M1', 'AA']], 'one log entry a message, refused ones included');
});

t.test('the batch of ACKs: BHS with sender and receiver swapped, an ACK a message in order, BTS with the count', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await post(app, text(bhs('B2'), a01('E1', 'MRN1'), noPid('E2'), a01('E3', 'MRN3'), bts(3)), ER7);
  t.equal(res.status, 200);
  t.match(res.type, /^x-application\/hl7-v2\+er7/);
  const s = segs(res.raw);
  t.same(s.map((x) => x.slice(0, 3)), ['BHS', 'MSH', 'MSA', 'MSH', 'MSA', 'ERR', 'MSH', 'MSA', 'BTS'], 'no FHS/FTS: the request had none');
  t.same([3, 4, 5, 6].map((n) => hfield(s[0], n)), ['MIGFHIR', 'EU', 'HIS', 'ATTIKON'], 'BHS-3..6: sender and receiver swapped');
  t.equal(hfield(s[0], 12), 'B2', 'BHS-12: the batch answered');
  t.ok(hfield(s[0], 11), 'BHS-11: the answer batch has a control id of its own');
  t.same(s.filter((x) => x.startsWith('MSA')).map((x) => [field(x, 1), field(x, 2)]), [['AA', 'E1'], ['AE', 'E2'], ['AA', 'E3']]);
  t.equal(field(s.find((x) => x.startsWith('ERR'))!, 3).split('^')[0], '101', 'the AE says why, as alone');
  t.equal(s.at(-1), 'BTS|3');
});

t.test('a file with FHS/FTS and two batches', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const file = text(fhs('F1'), bhs('B1'), a01('F1-1', 'MRN1'), a01('F1-2', 'MRN2'), bts(2), bhs('B2'), a01('F1-3', 'MRN3'), bts(1), 'FTS|2');
  const res = await post(app, file, ER7);
  t.equal(res.status, 200);
  const s = segs(res.raw);
  t.same(s.filter((x) => /^(FHS|BHS|BTS|FTS)/.test(x)).map((x) => x.slice(0, 3)), ['FHS', 'BHS', 'BTS', 'BHS', 'BTS', 'FTS']);
  t.equal(hfield(s[0], 12), 'F1', 'FHS-12: the file answered');
  t.same(s.filter((x) => x.startsWith('BHS')).map((x) => hfield(x, 12)), ['B1', 'B2']);
  t.same(s.filter((x) => x.startsWith('BTS')), ['BTS|2', 'BTS|1']);
  t.equal(s.at(-1), 'FTS|2');
  t.same(s.filter((x) => x.startsWith('MSA')).map((x) => field(x, 2)), ['F1-1', 'F1-2', 'F1-3']);
  t.same(await counts(app), { patients: 3, encounters: 3, provenance: 3 });
});

t.test('a batch sent again applies nothing twice', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const batch = text(bhs('R1'), a01('R1-1', 'MRN1'), noPid('R1-2'), a01('R1-3', 'MRN3'), bts(3));
  t.equal((await post(app, batch)).status, 200);
  const before = await counts(app);
  const history = (await fhir(app, 'GET', '/fhir/Patient/_history?_summary=count')).body.total;
  const again = await post(app, batch);
  t.equal(again.status, 200);
  t.same(again.body.entry.map((e: any) => e.response.outcome?.issue[0].code), ['duplicate', 'required', 'duplicate'], 'applied ones recognised by their control id; the refused one refused again');
  t.same(await counts(app), before, 'no resource created');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/_history?_summary=count')).body.total, history, 'no version written');
});

t.test('each message keeps its own character set (MSH-18) and line endings', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const greek = encode(`${[msh('A28', 'CS-2', { charset: '8859/7' }), pid({ ids: 'GR7^^^ATTIKON^MR', names: 'Αλεξίου^Δημήτρης' })].join('\n')}\n`, 'iso-8859-7');
  const body = Buffer.concat([Buffer.from(`${bhs('CS')}\n${a01('CS-1', 'UTF8', 'Ηaddad')}\n`), greek, Buffer.from(`${bts(2)}\n`)]);
  const res = await post(app, body);
  t.same(res.body.entry.map((e: any) => e.response.status), ['200 OK', '200 OK']);
  const p = (await fhir(app, 'GET', '/fhir/Patient?identifier=GR7')).body.entry[0].resource;
  t.equal(p.name[0].family, 'Αλεξίου', 'decoded as ISO-8859-7, as its MSH-18 says');
});

const BROKEN: { name: string; body: string; at: string }[] = [
  { name: 'BHS without BTS (a batch cut in transit)', body: text(bhs('X1'), a01('X1-1', 'MRN1'), a01('X1-2', 'MRN2')), at: 'segment 1' },
  { name: 'BTS without BHS', body: text(bhs('X2'), a01('X2-1', 'MRN1'), bts(1), bts(1)), at: 'segment 7' },
  { name: 'BTS-1 not the number of messages', body: text(bhs('X3'), a01('X3-1', 'MRN1'), a01('X3-2', 'MRN2'), bts(3)), at: 'BTS-1' },
  { name: 'BTS-1 not a number', body: text(bhs('X4'), a01('X4-1', 'MRN1'), bts('one')), at: 'BTS-1' },
  { name: 'a segment between BHS and the first MSH', body: text(bhs('X5'), evn('A01'), a01('X5-1', 'MRN1'), bts(1)), at: 'segment 2' },
  { name: 'a second BHS before the first BTS', body: text(bhs('X6'), a01('X6-1', 'MRN1'), bhs('X6b'), a01('X6-2', 'MRN2'), bts(1)), at: 'segment 6' },
  { name: 'FHS without FTS', body: text(fhs('X7'), bhs('X7b'), a01('X7-1', 'MRN1'), bts(1)), at: 'segment 1' },
  { name: 'FTS without FHS', body: text(bhs('X8'), a01('X8-1', 'MRN1'), bts(1), 'FTS|1'), at: 'segment 7' },
  { name: 'FTS-1 not the number of batches', body: text(fhs('X9'), bhs('X9b'), a01('X9-1', 'MRN1'), bts(1), 'FTS|2'), at: 'FTS-1' },
  { name: 'a message outside BHS … BTS in a file', body: text(fhs('X10'), a01('X10-1', 'MRN1'), bhs('X10b'), bts(0), 'FTS|1'), at: 'segment 2' },
  { name: 'segments after FTS', body: text(fhs('X11'), bhs('X11b'), a01('X11-1', 'MRN1'), bts(1), 'FTS|1', a01('X11-2', 'MRN2')), at: 'segment 9' },
  { name: 'BHS with bad delimiters', body: text('BHS|^^\\&|HIS', a01('X12-1', 'MRN1'), bts(1)), at: 'BHS-2' },
];

t.test('a broken batch: one AR, 4xx, nothing stored, on either answer format', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const b of BROKEN) {
    const json = await post(app, b.body);
    t.equal(json.status, 400, `${b.name}: 400`);
    t.equal(json.body.resourceType, 'OperationOutcome', b.name);
    t.same(json.body.issue[0].expression, [b.at], `${b.name}: at ${b.at}`);
    const er7 = await post(app, b.body, ER7);
    t.equal(er7.status, 400);
    const s = segs(er7.raw);
    t.same(s.map((x) => x.slice(0, 3)), ['MSH', 'MSA', 'ERR'], `${b.name}: one ACK, not a batch`);
    t.equal(field(s[1], 1), 'AR', `${b.name}: AR`);
  }
  const named = segs((await post(app, BROKEN[2].body, ER7)).raw);
  t.equal(field(named[1], 2), 'X3', 'MSA-2 names the batch refused (BHS-11)');
  t.same([3, 4, 5, 6].map((n) => hfield(named[0], n)), ['MIGFHIR', 'EU', 'HIS', 'ATTIKON'], 'from the receiver to the sender of the batch');
  const log = (await fhir(app, 'GET', '/fhir/$inbound-messages?_count=1')).body;
  const newest = Object.fromEntries(log.parameter.find((p: any) => p.name === 'message').part.map((p: any) => [p.name, p.valueString ?? p.valueCode]));
  t.match(newest, { controlId: 'X3', event: 'BHS', ack: 'AR', sender: 'HIS^ATTIKON' }, 'the refused batch is one log entry, named by its BHS');
  t.same(await counts(app), { patients: 0, encounters: 0, provenance: 0 }, 'nothing stored');
});

t.test(`more than ${MAX_BATCH_MESSAGES} messages: refused whole, nothing stored`, async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const messages = Array.from({ length: MAX_BATCH_MESSAGES + 1 }, (_, i) => a01(`BIG-${i}`, `MRN${i}`));
  const res = await post(app, text(bhs('BIG'), ...messages, bts(messages.length)));
  t.equal(res.status, 400);
  t.match(res.body.issue[0].diagnostics, new RegExp(`more than ${MAX_BATCH_MESSAGES} messages`));
  t.same(await counts(app), { patients: 0, encounters: 0, provenance: 0 });
});

t.test('an empty batch (BTS|0) is read and answered empty', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await post(app, text(bhs('E0'), bts(0)), ER7);
  t.equal(res.status, 200);
  t.same(segs(res.raw).map((x) => x.slice(0, 3)), ['BHS', 'BTS']);
  t.equal(segs(res.raw)[1], 'BTS|0');
});

t.test('the sensitive-identifier rule holds per message: a feed without the migration-data scope', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'feed', scope: 'system/*.cruds migfhir/migration-data.read' });
  const full = await bearer('system/*.cruds migfhir/migration-data.read');
  const plain = await bearer('system/*.cruds');
  const asylum = (id: string) => [msh('A28', id), pid({ ids: 'PA-778^^^PAAYPA', names: 'Haddad^Omar', dob: '19900101', sex: 'M' })].join('\r');
  const send = (body: string, headers: Record<string, string>) => app.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, ...headers }, payload: Buffer.from(body) });
  t.equal((await send(text(bhs('S0'), asylum('S0-1'), bts(1)), full)).statusCode, 200, 'a feed with the scope registers the PAAYPA holder');
  const res = await send(text(bhs('S1'), a01('S1-1', 'MRN1'), asylum('S1-2'), a01('S1-3', 'MRN3'), bts(3)), plain);
  t.equal(res.statusCode, 200);
  const body = JSON.parse(res.body);
  t.same(body.entry.map((e: any) => e.response.status), ['200 OK', '403 Forbidden', '200 OK'], 'matching on a status-revealing number the feed may not see: AE 403 for that message only');
  t.notMatch(res.body, /PA-778|paaypa/i, 'the answer names no status-revealing identifier');
});
