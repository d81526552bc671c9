// How the MLLP listener forms its batches (src/transport/mllp.ts): a batch takes only the frames
// already mapped, in arrival order, so that a frame still on the mapping thread never holds up
// the frames before it — and frames are still applied, and answered, in the order received.
import t from 'tap';
import net from 'node:net';
import { frame, MllpServer, type Frame } from '../../src/transport/mllp.ts';
import type { Hl7v2Mapper, MapResult } from '../../src/transport/hl7v2-mapper.ts';

/** A mapper whose frames are mapped when the test says so. */
function heldMapper() {
  const held = new Map<string, (r: MapResult) => void>();
  const mapper = {
    map(bytes: Uint8Array): Promise<MapResult> {
      return new Promise((done) => held.set(Buffer.from(bytes).toString(), done));
    },
  } as unknown as Hl7v2Mapper;
  const release = (text: string) => held.get(text)!({ error: new Error(text) });
  return { mapper, held, release };
}

t.test('a batch takes the mapped frames before the first unmapped one; ACKs stay in order', async (t) => {
  const { mapper, held, release } = heldMapper();
  const batches: string[][] = [];
  const server = new MllpServer({
    port: 0,
    host: '127.0.0.1',
    maxFrameBytes: 1024,
    mapper,
    handle: async (frames: Frame[]) => {
      batches.push(frames.map((f) => f.bytes.toString()));
      return frames.map((f) => `ACK ${f.bytes.toString()}`);
    },
  });
  const port = await server.listen();
  t.teardown(() => server.close());
  const socket = net.connect(port, '127.0.0.1');
  t.teardown(() => socket.destroy());
  await new Promise((resolve) => socket.once('connect', resolve));
  let received = '';
  socket.on('data', (d) => (received += d.toString()));
  socket.write(Buffer.concat(['m1', 'm2', 'm3', 'm4'].map((m) => frame(m))));
  while (held.size < 4) await new Promise((r) => setTimeout(r, 5));

  // m2 and m3 are mapped, m1 (the first) is not: nothing can be applied before m1
  release('m2');
  release('m3');
  await new Promise((r) => setTimeout(r, 30));
  t.same(batches, [], 'nothing is applied while the first frame is being mapped');
  release('m1');
  await new Promise((r) => setTimeout(r, 50));
  // the first batch takes half of the four frames in flight; the next the mapped rest
  t.same(batches, [['m1', 'm2'], ['m3']], 'the mapped prefix; m4, still being mapped, is not applied');
  release('m4');
  const deadline = Date.now() + 5000;
  while (!received.includes('ACK m4') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  t.same(batches, [['m1', 'm2'], ['m3'], ['m4']]);
  t.same([...received.matchAll(/ACK (m\d)/g)].map((m) => m[1]), ['m1', 'm2', 'm3', 'm4'], 'ACKs in the order received');
});
