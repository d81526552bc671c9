// The inbound message log through $inbound-messages, on both engines (embedded SQLite; MongoDB's
// engine over the mingo test double): an entry for every HL7 v2 message over HTTP and MLLP and
// every national import, accepted or refused, with the message as received; nothing of it in
// search, history, $everything or $export; bounded by --message-log-max; off at 0.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.ts';
import { testConfig, type Config } from '../../src/config.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir } from '../helpers/app.ts';
import { mllpClient } from '../helpers/mllp-client.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { ENGINES } from '../inbound/engines.ts';
import { runExport } from '../helpers/bulk-client.ts';
import { evn, msh, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';
import { FIXTURES } from '../mapping/national/fixtures.ts';


const ER7 = 'x-application/hl7-v2+er7; charset=utf-8';
const a01 = (id: string, mrn: string) => [msh('A01', id, { facility: 'EVANGELISMOS' }), evn('A01'), pid({ ids: `${mrn}^^^EVANGELISMOS^MR`, names: 'الحسن^محمد^^^^^L^I~Al-Hassan^Mohammed^^^^^L^A', dob: '19920704', sex: 'M' }), pv1({ cls: 'E', visit: `ER-${id}^^^EVANGELISMOS` })].join('\r');
// no PID: AE, nothing stored
const noPid = (id: string) => [msh('A01', id), evn('A01'), pv1({ cls: 'I', visit: 'V1^^^X' })].join('\r');
// an unsupported version: AR
const badVersion = (id: string) => [msh('A01', id, { version: '9.9' }), evn('A01'), pid({ ids: 'X1^^^ATTIKON', names: 'Doe^J' })].join('\r');

async function app(t: Test, open: () => Promise<ResourceStore>, config: Partial<Config> = {}): Promise<FastifyInstance> {
  const store = await open();
  const a = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', mllpPort: 0, mllpHost: '127.0.0.1', ...config }), { store });
  t.teardown(async () => {
    await a.close();
    await store.close();
  });
  return a;
}

/** Sends messages over MLLP on one connection and gives their ACKs. */
async function sendMllp(port: number, messages: string[]): Promise<string[]> {
  const client = await mllpClient(port);
  try {
    return await client.sendAll(messages);
  } finally {
    client.close();
  }
}

const ingest = (a: FastifyInstance, text: string, headers: Record<string, string> = {}) => a.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, ...headers }, payload: Buffer.from(text, 'utf8') });

/** The log's entries as plain objects: part name → value (written: every reference). */
export function entriesOf(body: any): Record<string, any>[] {
  return (body.parameter ?? []).filter((p: any) => p.name === 'message').map((m: any) => {
    const out: Record<string, any> = { written: [] };
    for (const p of m.part) {
      if (p.name === 'written') out.written.push(p.valueReference.reference);
      else out[p.name] = p.resource ?? p.valueId ?? p.valueInstant ?? p.valueCode ?? p.valueString ?? p.valueBase64Binary ?? p.valueInteger ?? p.valueBoolean;
    }
    return out;
  });
}

const param = (body: any, name: string) => body.parameter.find((p: any) => p.name === name);

for (const engine of ENGINES) {
  t.test(`${engine.name}: every message is logged, accepted or refused, over HTTP and MLLP, and national imports`, async (t) => {
    const a = await app(t, engine.open);
    t.equal((await ingest(a, a01('LOG-1', 'EV-1'))).statusCode, 200, 'an A01 over HTTP is applied');
    const refused = await ingest(a, noPid('LOG-2'));
    t.equal(refused.statusCode, 422, 'a message without PID is refused over HTTP');
    const acks = await sendMllp(a.mllp!.port, [a01('LOG-3', 'EV-3'), badVersion('LOG-4')]);
    t.match(acks[0], /\rMSA\|AA\|LOG-3/, 'an A01 over MLLP is applied');
    t.match(acks[1], /\rMSA\|AR\|LOG-4/, 'a message of an unknown version is rejected over MLLP');
    const national = await fhir(a, 'POST', '/fhir/$import-national?adapter=xx&sender=test-feed', { resourceType: 'Patient', name: [{ family: 'Doe' }] });
    t.equal(national.status, 400, 'a national import for an unknown adapter is refused');

    const list = await fhir(a, 'GET', '/fhir/$inbound-messages');
    t.equal(list.status, 200);
    t.equal(list.body.resourceType, 'Parameters');
    t.equal(param(list.body, 'enabled').valueBoolean, true);
    t.equal(param(list.body, 'keepDays').valueInteger, 7);
    t.equal(param(list.body, 'keepCount').valueInteger, 10000);
    t.equal(param(list.body, 'contentReadable').valueBoolean, true, 'open development access: the content can be read');
    const entries = entriesOf(list.body);
    t.same(entries.map((e) => [e.kind, e.door, e.controlId ?? e.event, e.ack]), [
      ['national', 'http', 'xx', 'AE'],
      ['hl7v2', 'mllp', 'LOG-4', 'AR'],
      ['hl7v2', 'mllp', 'LOG-3', 'AA'],
      ['hl7v2', 'http', 'LOG-2', 'AE'],
      ['hl7v2', 'http', 'LOG-1', 'AA'],
    ], 'newest first, refused ones included');
    const [nat, ar, aaMllp, ae, aa] = entries;
    t.equal(aa.sender, 'HIS^EVANGELISMOS', 'the sender: MSH-3^MSH-4');
    t.equal(aa.event, 'ADT^A01', 'the event: MSH-9');
    t.equal(aa.size, Buffer.byteLength(a01('LOG-1', 'EV-1')), 'the size received');
    t.equal(aa.contentKept, true);
    t.match(aa.written, [/^Patient\//, /^Encounter\//, /^Provenance\//], 'the resources an accepted message wrote');
    t.equal(aaMllp.written.length, 3);
    t.same(ae.written, [], 'a refused message wrote nothing');
    t.equal(ae.outcome.resourceType, 'OperationOutcome');
    t.match(ae.outcome.issue, [{ severity: 'error', expression: ['PID'] }], 'with the error the sender was answered');
    t.match(ar.outcome.issue[0].diagnostics, /version/i);
    t.equal(nat.sender, 'test-feed');
    t.match(nat.outcome.issue[0].diagnostics, /Unknown national adapter/);
    for (const e of entries) t.equal(e.content ?? e.text, undefined, `the list holds no message content (${e.controlId ?? e.event})`);

    const one = await fhir(a, 'GET', `/fhir/$inbound-messages?id=${ae.id}`);
    t.equal(one.status, 200);
    const [read] = entriesOf(one.body);
    t.equal(read.text, noPid('LOG-2'), 'one message by id: its text');
    t.equal(Buffer.from(read.content, 'base64').toString('utf8'), noPid('LOG-2'), 'and its bytes as received');
    t.equal(read.charset, 'utf-8', 'and the charset it came with');
    t.equal(entriesOf((await fhir(a, 'GET', `/fhir/$inbound-messages?id=${nat.id}`)).body)[0].text, JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Doe' }] }), 'a national import: its JSON');
    t.same(entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?ack=AE,AR&kind=hl7v2')).body).map((e) => e.controlId), ['LOG-4', 'LOG-2'], 'filtered by ACK code and kind');
    t.same(entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?_count=2')).body).length, 2, '_count: the newest entries');
    const unknown = await fhir(a, 'GET', '/fhir/$inbound-messages?id=nope');
    t.equal(unknown.status, 404);
    t.equal(unknown.body.resourceType, 'OperationOutcome');
    t.equal((await fhir(a, 'GET', '/fhir/$inbound-messages?ack=XX')).status, 400, 'an unknown ACK code is a 400');
    t.equal((await fhir(a, 'GET', '/fhir/$inbound-messages?other=1')).status, 400, 'an undeclared parameter is a 400');

    // a refused message stores no FHIR resource; nothing of the log is a resource
    for (const type of ['Patient', 'Encounter', 'Provenance']) t.equal((await fhir(a, 'GET', `/fhir/${type}?_summary=count`)).body.total, 2, `two ${type} (the accepted messages')`);
    const history = await fhir(a, 'GET', '/fhir/_history?_count=1000');
    const everything = await fhir(a, 'GET', `/fhir/${aa.written[0]}/$everything`);
    const exported = await runExport(a, 'GET', '/fhir/$export');
    const exportedText = JSON.stringify([...exported.files.values()]);
    for (const [what, text] of [['history', history.raw], ['$everything', everything.raw], ['$export', exportedText]] as const) {
      t.ok(text.length > 100, `${what} answered`);
      for (const absent of ['LOG-2', 'LOG-4', ae.id, nat.id, 'test-feed']) t.notOk(text.includes(absent), `${what}: nothing of the refused messages or of the log (${absent})`);
    }
  });

  t.test(`${engine.name}: --message-log-max bounds the log; 0 stores nothing`, async (t) => {
    const a = await app(t, engine.open, { messageLogMax: 2 });
    for (const n of [1, 2, 3]) await ingest(a, noPid(`MAX-${n}`));
    t.same(entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages')).body).map((e) => e.controlId), ['MAX-3', 'MAX-2'], 'the newest two are kept');

    const store = await engine.open();
    const off = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', mllpPort: 0, mllpHost: '127.0.0.1', messageLogMax: 0 }), { store });
    t.teardown(async () => {
      await off.close();
      await store.close();
    });
    t.equal((await ingest(off, a01('OFF-1', 'EV-OFF'))).statusCode, 200);
    await ingest(off, noPid('OFF-2'));
    await sendMllp(off.mllp!.port, [noPid('OFF-3')]);
    const list = await fhir(off, 'GET', '/fhir/$inbound-messages');
    t.equal(param(list.body, 'enabled').valueBoolean, false, 'the log says it is off');
    t.equal(param(list.body, 'contentReadable').valueBoolean, false);
    t.same(entriesOf(list.body), []);
    t.same(await store.messageLog!().list({ count: 100 }), [], 'and the engine holds no entry');
    t.equal((await fhir(off, 'GET', '/fhir/$inbound-messages?id=x')).status, 404);
  });
}

t.test('scopes: listing needs migfhir/integration.read; the content needs migfhir/migration-data.read as well; reading it is audited', async (t) => {
  for (const engine of ENGINES) {
    const { app: a, bearer } = await authorizedApp(t, { id: 'integration', scope: 'system/*.cruds migfhir/migration-data.read migfhir/integration.read' }, { store: await engine.open() });
    const feed = await bearer('system/*.cruds');
    t.equal((await ingest(a, noPid('SCOPE-1'), feed)).statusCode, 422, `${engine.name}: a refused message`);
    const without = await fhir(a, 'GET', '/fhir/$inbound-messages', undefined, await bearer('system/*.cruds migfhir/migration-data.read'));
    t.equal(without.status, 403, 'no integration scope: no list');
    t.equal(without.body.resourceType, 'OperationOutcome');
    t.match(without.body.issue[0].diagnostics, 'migfhir/integration.read');

    const lister = await bearer('system/*.rs migfhir/integration.read');
    const list = await fhir(a, 'GET', '/fhir/$inbound-messages', undefined, lister);
    t.equal(list.status, 200, 'the integration scope lists');
    t.equal(param(list.body, 'contentReadable').valueBoolean, false, 'and the answer says the content cannot be read');
    const [entry] = entriesOf(list.body);
    t.equal(entry.controlId, 'SCOPE-1');
    t.equal(entry.ack, 'AE');
    t.notOk(list.raw.includes('PV1|'), 'no message content in the list');
    const refused = await fhir(a, 'GET', `/fhir/$inbound-messages?id=${entry.id}`, undefined, lister);
    t.equal(refused.status, 403, 'the content without the migration-data scope: 403');
    t.equal(refused.body.resourceType, 'OperationOutcome');
    t.match(refused.body.issue[0].diagnostics, 'migfhir/migration-data.read');
    t.notOk(refused.raw.includes('PV1|'), 'with nothing of the message');
    t.equal((await fhir(a, 'GET', `/fhir/$inbound-messages?id=${entry.id}`, undefined, await bearer('system/*.cruds migfhir/migration-data.read'))).status, 403, 'nor with migration-data alone');

    const reader = await bearer('system/*.rs migfhir/integration.read migfhir/migration-data.read');
    const read = await fhir(a, 'GET', `/fhir/$inbound-messages?id=${entry.id}`, undefined, reader);
    t.equal(read.status, 200, 'both scopes: the content');
    t.equal(entriesOf(read.body)[0].text, noPid('SCOPE-1'));
    t.equal(param(read.body, 'contentReadable').valueBoolean, true);

    await a.fhir.audit?.flush();
    const events = await fhir(a, 'GET', '/fhir/AuditEvent?_count=200', undefined, reader);
    const reads = (events.body.entry ?? []).map((e: any) => e.resource).filter((ev: any) => ev.entity?.some((x: any) => x.query && Buffer.from(x.query, 'base64').toString() === `id=${entry.id}`));
    t.equal(reads.length, 1, 'the read of the content has its AuditEvent, naming the message');
    t.equal(reads[0]?.agent[0].altId, 'integration');
    t.ok(reads[0]?.meta?.security?.length, 'labelled as the migration data it may hold');
  }
});

t.test('no message text in the server log, at trace level, even when the log cannot be written', async (t) => {
  const lines: string[] = [];
  const store = new SqliteStore({ path: ':memory:' });
  const a = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', logLevel: 'trace' }), { store, logStream: { write: (line) => void lines.push(line) } });
  t.teardown(async () => {
    await a.close();
    await store.close();
  });
  t.equal((await ingest(a, a01('TRACE-1', 'EV-TRACE'))).statusCode, 200);
  t.equal((await ingest(a, noPid('TRACE-2'))).statusCode, 422);
  const [entry] = entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?_count=1')).body);
  t.equal((await fhir(a, 'GET', `/fhir/$inbound-messages?id=${entry.id}`)).status, 200);
  // the log's database gone: the message is still answered, and the failure logged without it
  await store.messageLog().close();
  t.equal((await ingest(a, a01('TRACE-3', 'EV-TRACE-3'))).statusCode, 200, 'a message is applied when its log entry cannot be written');
  const log = lines.join('');
  t.match(log, /inbound message log: /, 'the failure is logged');
  for (const secret of ['الحسن', 'Al-Hassan', 'EV-TRACE', 'TRACE-2', 'PV1|', '19920704']) t.notOk(log.includes(secret), `no "${secret}" in the logs`);
});

/** An app on SQLite whose next transaction fails after its work ran (a disk error at commit, say). */
async function failingCommitApp(t: Test): Promise<{ app: FastifyInstance; failNextCommit: () => void }> {
  const store = new SqliteStore({ path: ':memory:' });
  const a = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', audit: 'on' }), { store });
  t.teardown(async () => {
    await a.close();
    await store.close();
  });
  const transaction = store.transaction.bind(store);
  let failNext = false;
  store.transaction = ((work: Parameters<typeof transaction>[0]) => transaction(async (tx) => {
    const result = await work(tx);
    if (failNext) {
      failNext = false;
      throw new Error('disk I/O error');
    }
    return result;
  })) as typeof store.transaction;
  return { app: a, failNextCommit: () => (failNext = true) };
}

t.test('a national import whose commit fails is logged as refused, never as applied (the log is written after the commit)', async (t) => {
  const { app: a, failNextCommit } = await failingCommitApp(t);
  const [fixture] = FIXTURES;
  failNextCommit();
  const failed = await fhir(a, 'POST', `/fhir/$import-national?adapter=${fixture.adapter}`, fixture.body);
  t.equal(failed.status, 500, 'the failed commit is answered as such');
  t.equal((await fhir(a, 'GET', '/fhir/Patient?_summary=count')).body.total, 0, 'nothing stored');
  const [entry] = entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?kind=national')).body);
  t.equal(entry?.ack, 'AE', 'logged as refused');
  t.same(entry?.written, [], 'naming no resource');
  const applied = await fhir(a, 'POST', `/fhir/$import-national?adapter=${fixture.adapter}`, fixture.body);
  t.equal(applied.status, 200, 'sent again, it is applied');
  const [latest] = entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?kind=national&_count=1')).body);
  t.equal(latest.ack, 'AA');
  t.ok(latest.written.some((r: string) => r.startsWith('Patient/')), 'with the Patient it wrote');
  t.ok((await fhir(a, 'GET', '/fhir/AuditEvent?_summary=count')).body.total > 0, 'and its AuditEvents joined its transaction');
});

t.test('a national import inside a batch Bundle logs after its own commit, like one sent alone', async (t) => {
  const { app: a, failNextCommit } = await failingCommitApp(t);
  const [first, second] = FIXTURES;
  const entry = (f: (typeof FIXTURES)[number]) => ({ resource: f.body, request: { method: 'POST', url: `$import-national?adapter=${f.adapter}` } });
  failNextCommit();
  const batch = await fhir(a, 'POST', '/fhir', { resourceType: 'Bundle', type: 'batch', entry: [entry(first), entry(second)] });
  t.equal(batch.status, 200, 'the batch is answered');
  const statuses = batch.body.entry.map((e: any) => e.response.status);
  t.match(statuses[0], /^5/, `the entry whose commit failed is answered as failed (${statuses[0]})`);
  t.match(statuses[1], /^200/, `the next entry is applied (${statuses[1]})`);
  const entries = entriesOf((await fhir(a, 'GET', '/fhir/$inbound-messages?kind=national')).body);
  t.equal(entries.length, 2, 'both entries logged');
  const byAck = Object.fromEntries(entries.map((e) => [e.ack, e]));
  t.same(byAck.AE?.written, [], 'the failed one as refused, naming no resource');
  t.ok(byAck.AA?.written.some((r: string) => r.startsWith('Patient/')), 'the applied one with the Patient it wrote');
  for (const w of byAck.AA.written) t.equal((await fhir(a, 'GET', `/fhir/${w}`)).status, 200, `${w} is stored`);
  t.equal((await fhir(a, 'GET', '/fhir/Patient?_summary=count')).body.total, 1, 'nothing of the failed entry stored');
});
