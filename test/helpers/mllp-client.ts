// A minimal MLLP client for tests: connects to the server's MLLP port, frames what it sends
// (text through src/transport/mllp.ts frame; bytes as they are, for other charsets and
// malformed content) and collects the ACKs as they arrive, one per frame.
import net from 'node:net';
import { frame } from '../../src/transport/mllp.ts';

export interface MllpClient {
  /** every ACK received so far, in order, as text */
  readonly acks: string[];
  /** sends one message and waits (up to `timeoutMs`) for one more ACK; returns it, or undefined */
  send(message: string | Buffer, timeoutMs?: number): Promise<string | undefined>;
  /** sends several messages at once and waits for as many ACKs */
  sendAll(messages: (string | Buffer)[], timeoutMs?: number): Promise<string[]>;
  close(): void;
}

export async function mllpClient(port: number): Promise<MllpClient> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  const acks: string[] = [];
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d]);
    for (let end = buf.indexOf(0x1c); end >= 0 && buf.length >= end + 2; end = buf.indexOf(0x1c)) {
      acks.push(buf.subarray(1, end).toString('utf8'));
      buf = buf.subarray(end + 2);
    }
  });
  const waitFor = async (count: number, timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    while (acks.length < count && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  };
  const sendAll = async (messages: (string | Buffer)[], timeoutMs = 20_000) => {
    const before = acks.length;
    for (const m of messages) socket.write(typeof m === 'string' ? frame(m) : Buffer.concat([Buffer.from([0x0b]), m, Buffer.from([0x1c, 0x0d])]));
    await waitFor(before + messages.length, timeoutMs);
    return acks.slice(before);
  };
  return {
    acks,
    sendAll,
    send: async (message, timeoutMs = 10_000) => (await sendAll([message], timeoutMs))[0],
    close: () => socket.destroy(),
  };
}
