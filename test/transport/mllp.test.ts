// The MLLP listener on 127.0.0.1, an ephemeral port, always closed: framing, ACK order,
// AR for oversized/truncated/garbled frames, AE for content errors, nothing stored for either.
import t, { type Test } from 'tap';
import net from 'node:net';
import type { FastifyInstance } from 'fastify';
import { fhir, testApp } from '../helpers/app.ts';
import { frame } from '../../src/transport/mllp.ts';
import { bytesOf, FIXTURES, msh, pid, pv1 } from '../mapping/hl7v2/fixtures.ts';

const SB = Buffer.from([0x0b]);
const END = Buffer.from([0x1c, 0x0d]);
const framed = (b: Buffer) => Buffer.concat([SB, b, END]);

/** A client that collects ACK frames. */
async function client(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  const acks: string[] = [];
  const waiters: (() => void)[] = [];
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (;;) {
      const end = buf.indexOf(0x1c);
      if (buf[0] !== 0x0b || end < 0 || buf.length < end + 2) break;
      acks.push(buf.subarray(1, end).toString('utf8'));
      buf = buf.subarray(end + 2);
      waiters.splice(0).forEach((w) => w());
    }
  });
  const waitFor = async (n: number) => {
    const deadline = Date.now() + 20_000;
    while (acks.length < n) {
      if (Date.now() > deadline) throw new Error(`only ${acks.length} of ${n} ACKs`);
      await new Promise<void>((r) => {
        waiters.push(r);
        setTimeout(r, 200);
      });
    }
    return acks;
  };
  return { socket, acks, waitFor, close: () => new Promise<void>((r) => socket.end(r)) };
}

async function started(t: Test): Promise<{ app: FastifyInstance; port: number }> {
  const app = await testApp({ mllpPort: 0, mllpHost: '127.0.0.1', mllpMaxBytes: 1024 * 1024 });
  t.teardown(() => app.close());
  t.ok(app.mllp && app.mllp.port > 0, 'listening on an ephemeral port');
  return { app, port: app.mllp!.port };
}

const msa = (ack: string) => /\rMSA\|([^|\r]*)\|([^|\r]*)/.exec(ack)?.slice(1, 3);

t.test('off by default', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  t.equal(app.mllp, undefined);
});

t.test('messages in, ACKs out in order; pipelined frames split across writes', async (t) => {
  const { app, port } = await started(t);
  const c = await client(port);
  t.teardown(c.close);
  const good = FIXTURES.filter((f) => !f.expect.ack).slice(0, 12);
  const all = Buffer.concat(good.map((f) => framed(bytesOf(f))));
  // dribble the stream in odd-sized pieces, so frames and the 0x1C 0x0D pair are cut anywhere
  for (let i = 0; i < all.length; i += 97) c.socket.write(all.subarray(i, i + 97));
  const acks = await c.waitFor(good.length);
  t.same(acks.map((a) => msa(a)?.[0]), good.map(() => 'AA'));
  t.same(acks.map((a) => msa(a)?.[1]), good.map((f) => /\|ADT\^[^|]*\|([^|]*)\|/.exec(f.segments[0])![1]), 'ACK n answers message n');
  t.match(acks[0], /^MSH\|\^~\\&\|MIGFHIR\|EU\|HIS\|ATTIKON\|\d{14}/);
  t.equal((await fhir(app, 'GET', '/fhir/Provenance?_summary=count')).body.total, good.length);
});

t.test('AR for garbage, missing MSH, truncated and oversized frames; AE for content errors; nothing stored', async (t) => {
  const { app, port } = await started(t);
  const c = await client(port);
  t.teardown(c.close);
  c.socket.write(Buffer.from('noise between frames\r\n'));
  c.socket.write(framed(Buffer.from('hello')));
  c.socket.write(framed(Buffer.from(pid({ ids: 'X^^^A', names: 'A^B' }))));
  c.socket.write(Buffer.concat([SB, Buffer.from(msh('A01', 'CUT-1'))])); // no end block: cut by the next frame
  c.socket.write(framed(Buffer.from(`${msh('A28', 'NOID-1')}\r${pid({ ids: '', names: 'Doe^Jane' })}`)));
  c.socket.write(framed(Buffer.alloc(10 * 1024 * 1024, 0x41))); // 10 MB frame
  c.socket.write(framed(Buffer.from(`${msh('A05', 'EV-1')}\r${pid({ ids: 'X^^^A', names: 'A^B' })}`)));
  const acks = await c.waitFor(6);
  t.same(acks.map((a) => msa(a)?.[0]), ['AR', 'AR', 'AR', 'AE', 'AR', 'AR']);
  t.match(acks[3], /MSA\|AE\|NOID-1/);
  t.match(acks[3], /ERR\|\|PID\^1\^3\|101\^\^HL70357\|E/);
  t.match(acks[4], /larger than 1048576 bytes/);
  t.match(acks[5], /MSA\|AR\|EV-1/);
  t.match(acks[5], /ERR\|\|MSH\^1\^9\|201\^\^HL70357/);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_summary=count')).body.total, 0, 'nothing stored');
  // the connection still works after all that
  c.socket.write(framed(Buffer.from([msh('A04', 'OK-1'), pid({ ids: 'Y1^^^ATTIKON', names: 'Ok^Fine' }), pv1({ cls: 'O', visit: 'VY^^^ATTIKON' })].join('\r'))));
  t.equal(msa((await c.waitFor(7))[6])?.[0], 'AA');
});

t.test('a frame cut off by the connection closing stores nothing, and the server closes with the app', async (t) => {
  const app = await testApp({ mllpPort: 0 });
  const port = app.mllp!.port;
  const c = await client(port);
  c.socket.write(Buffer.concat([SB, bytesOf(FIXTURES[0]).subarray(0, 200)]));
  await c.close();
  await new Promise((r) => setTimeout(r, 100));
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_summary=count')).body.total, 0);
  const open = await client(port);
  // listened for first: the connection may close before app.close() returns
  const closed = new Promise((r) => open.socket.once('close', r));
  await app.close();
  await closed;
  t.pass('open connections are closed with the app');
  await t.rejects(client(port), 'nothing listens any more');
});

t.test('frame() writes the MLLP envelope', async (t) => {
  const f = frame('MSH|x');
  t.equal(f[0], 0x0b);
  t.same([...f.subarray(-2)], [0x1c, 0x0d]);
});
