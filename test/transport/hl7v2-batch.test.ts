// A batch file in one MLLP frame gets the batch of ACKs in one frame, the same as $hl7v2-ingest
// answers it over HTTP (one function answers both doors): valid, with a refused message among
// them, and broken (one AR, nothing stored); frames before and after a batch keep their order.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { mllpClient } from '../helpers/mllp-client.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { evn, msh, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';

const ER7 = 'x-application/hl7-v2+er7';
const a01 = (id: string, mrn: string) => [msh('A01', id), evn('A01'), pid({ ids: `${mrn}^^^ATTIKON^MR`, names: 'Haddad^Omar', dob: '19900101', sex: 'M' }), pv1({ cls: 'I', visit: `V-${id}^^^ATTIKON` })].join('\r');
const noPid = (id: string) => [msh('A01', id), evn('A01'), pv1({ cls: 'I', visit: 'V1^^^ATTIKON' })].join('\r');
const header = (name: string, id: string) => `${name}|^~\\&|HIS|ATTIKON|MIGFHIR|EU|20240312101500+0200||||${id}`;
const text = (...segments: string[]) => `${segments.join('\r')}\r`;

const FILES: { name: string; body: string }[] = [
  { name: 'a file of two batches, one AE among the messages', body: text(header('FHS', 'F1'), header('BHS', 'B1'), a01('D1', 'MRN1'), noPid('D2'), bts(2), header('BHS', 'B2'), a01('D3', 'MRN3'), bts(1), 'FTS|2') },
  { name: 'a batch cut in transit (BTS-1 says 3)', body: text(header('BHS', 'B3'), a01('D4', 'MRN4'), a01('D5', 'MRN5'), bts(3)) },
  { name: 'a segment between BHS and MSH', body: text(header('BHS', 'B4'), evn('A01'), a01('D6', 'MRN6'), bts(1)) },
];
function bts(n: number) {
  return `BTS|${n}`;
}

/** The ACK without what differs between two answers: times and the ids the server makes. */
function normalized(ack: string): string {
  return ack
    .split('\r')
    .filter(Boolean)
    .map((s) => {
      const f = s.split('|');
      if (f[0] === 'MSH') f[6] = f[9] = '*';
      if (f[0] === 'BHS' || f[0] === 'FHS') f[6] = f[10] = '*';
      return f.join('|');
    })
    .join('\n');
}

async function counts(app: FastifyInstance) {
  const n = async (type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total as number;
  return [await n('Patient'), await n('Encounter'), await n('Provenance')];
}

t.test('the same batch over MLLP and over HTTP: the same ACKs, the same resources stored', async (t) => {
  const config = { mllpPort: 0, mllpHost: '127.0.0.1', mllpMaxBytes: 1024 * 1024 };
  const overHttp = await testApp(config);
  const overMllp = await testApp(config);
  t.teardown(async () => {
    await overHttp.close();
    await overMllp.close();
  });
  const mllp = await mllpClient(overMllp.mllp!.port);
  t.teardown(() => mllp.close());
  for (const f of FILES) {
    const http = await overHttp.inject({ method: 'POST', url: '/fhir/$hl7v2-ingest', headers: { 'content-type': ER7, accept: ER7 }, payload: Buffer.from(f.body) });
    const ack = await mllp.send(f.body);
    t.ok(ack, `${f.name}: answered over MLLP in one frame`);
    t.equal(normalized(ack!), normalized(http.body), `${f.name}: the same answer on both doors`);
  }
  t.same(await counts(overMllp), await counts(overHttp), 'the same resources stored');
  t.same(await counts(overMllp), [2, 2, 2], 'the two good messages of the file; nothing of the broken batches');
});

t.test('frames before and after a batch keep their order', async (t) => {
  const app = await testApp({ mllpPort: 0, mllpHost: '127.0.0.1', mllpMaxBytes: 1024 * 1024 });
  t.teardown(() => app.close());
  const mllp = await mllpClient(app.mllp!.port);
  t.teardown(() => mllp.close());
  const acks = await mllp.sendAll([a01('O1', 'MRN1'), text(header('BHS', 'OB'), a01('O2', 'MRN2'), a01('O3', 'MRN3'), bts(2)), a01('O4', 'MRN4')]);
  t.equal(acks.length, 3, 'one frame answered per frame');
  t.match(acks[0], /^MSH.*\rMSA\|AA\|O1/);
  t.match(acks[1], /^BHS.*\rMSA\|AA\|O2\|?.*\rMSA\|AA\|O3\|?.*\rBTS\|2\r$/s, 'the batch of ACKs in one frame');
  t.match(acks[2], /^MSH.*\rMSA\|AA\|O4/);
  // the batch is sent again: nothing applied twice
  const before = await counts(app);
  const again = await mllp.send(text(header('BHS', 'OB'), a01('O2', 'MRN2'), a01('O3', 'MRN3'), bts(2)));
  t.match(again, /\rMSA\|AA\|O2\|duplicate message/);
  t.same(await counts(app), before);
});
