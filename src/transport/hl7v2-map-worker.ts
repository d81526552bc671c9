// The ER7 mapping thread (started by src/transport/hl7v2-mapper.ts): maps each frame it is
// sent, in the order sent, and posts back the mapped message — with its Bundle's speculative
// ids and the resources to prepare (src/rest/bundle-prepared.ts) when asked — or the Hl7Error
// that refused it.
import { parentPort } from 'node:worker_threads';
import { Hl7Error } from '../mapping/hl7v2/errors.ts';
import { mapMessage } from '../mapping/hl7v2/to-fhir.ts';
import type { MapReply } from './hl7v2-mapper.ts';
import { speculate } from '../rest/bundle-prepared.ts';

parentPort!.on('message', (m: { id: number; bytes: Uint8Array; received: string; speculate?: boolean }) => {
  let reply: MapReply;
  try {
    const mapped = mapMessage({ bytes: m.bytes, received: m.received });
    reply = { id: m.id, mapped, ...(m.speculate ? { speculation: speculate(mapped.bundle) } : {}) };
  } catch (err) {
    const e = err as Hl7Error & { header?: unknown };
    // anything else is mapped again on the main thread, which answers it as it always has
    reply = err instanceof Hl7Error ? { id: m.id, hl7: { ack: e.ack, code: e.code, message: e.message, location: e.location, header: e.header } } : { id: m.id, internal: true };
  }
  parentPort!.postMessage(reply);
});

// the mapping is loaded: the listener may send frames here from now on
parentPort!.postMessage({ ready: true });
