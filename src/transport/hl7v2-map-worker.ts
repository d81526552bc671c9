// The ER7 mapping thread (started by src/transport/hl7v2-mapper.ts): maps each frame it is
// sent, in the order sent, and posts back the mapped message — with its Bundle prepared for the
// store when it was given what to prepare with (src/rest/bundle-prepared.ts) — or the Hl7Error
// that refused it.
import { parentPort } from 'node:worker_threads';
import type { LineRules } from '../bulk/ndjson-line.ts';
import type { PreparedAdapterBundle } from '../mapping/apply.ts';
import { Hl7Error } from '../mapping/hl7v2/errors.ts';
import { mapMessage } from '../mapping/hl7v2/to-fhir.ts';
import type { Bundle } from 'fhir/r4.js';
import { speculate, type PreparedEntry } from '../rest/bundle-prepared.ts';
import { Preparer } from '../store/prepare/preparer.ts';
import type { MapFrame, MapReply, MapTask } from './hl7v2-mapper.ts';

let preparing: { stamp: number; preparer: Preparer; rules: LineRules } | undefined;

/** Events whose records are usually stored already (transfers, discharges, updates, merges):
 * their conditional updates will be merged with the stored records on the main thread, so a
 * preparation of them would be thrown away; only their Provenance, always new, is prepared.
 * A guess only saves work: a record such a message does create is written the ordinary way. */
const UPDATES = new Set(['A02', 'A03', 'A06', 'A07', 'A08', 'A12', 'A13', 'A31', 'A34', 'A36', 'A40']);

/** The Bundle's entries prepared as the prepare pool's threads prepare an import's lines. */
async function prepared(bundle: Bundle, event: string): Promise<PreparedAdapterBundle> {
  const { stamp, preparer, rules } = preparing!;
  const speculation = speculate(bundle, UPDATES.has(event) ? (e) => e.request?.method !== 'PUT' : undefined);
  const entries: (PreparedEntry | undefined)[] = [];
  for (const [i, id] of speculation.ids.entries()) {
    if (id === undefined) {
      entries.push(undefined);
      continue;
    }
    const text = speculation.texts[i];
    const line = text === undefined ? undefined : await preparer.prepare(text, rules);
    entries.push(line?.kind === 'ready' ? { id, write: line } : { id });
  }
  return { stamp, entries, targets: new Map(speculation.targets) };
}

parentPort!.on('message', async (m: MapTask) => {
  if ('build' in m) {
    preparing = { stamp: m.build.stamp, preparer: Preparer.build(m.build.settings, m.build.conformance), rules: m.rules };
    return;
  }
  // replies go back a few at a time, not once the whole task is mapped: the listener applies the
  // frames mapped so far while this thread maps the rest (a task is every frame read in one turn
  // of the main thread's loop, often twenty or more: ~10 ms of mapping). A hand-over costs each
  // side tens of microseconds, so a reply waits for REPLY_MS of mapping or the task's end.
  let replies: MapReply[] = [];
  let since = performance.now();
  for (const frame of m.frames) {
    replies.push(await mapped(frame));
    if (performance.now() - since >= REPLY_MS) {
      parentPort!.postMessage(replies);
      replies = [];
      since = performance.now();
    }
  }
  if (replies.length) parentPort!.postMessage(replies);
});

/** How long mapped frames may wait for the others of their task before they are posted back. */
const REPLY_MS = 1.5;

async function mapped(m: MapFrame): Promise<MapReply> {
  let reply: MapReply;
  try {
    const mapped = mapMessage({ bytes: m.bytes, received: m.received });
    let ahead: PreparedAdapterBundle | undefined;
    try {
      if (m.prepare && preparing) ahead = await prepared(mapped.bundle, mapped.header.event);
    } catch {
      // not prepared: the transaction writes the message the ordinary way
    }
    reply = { id: m.id, mapped, ...(ahead ? { prepared: ahead } : {}) };
  } catch (err) {
    const e = err as Hl7Error & { header?: unknown };
    // anything else is mapped again on the main thread, which answers it as it always has
    reply = err instanceof Hl7Error ? { id: m.id, hl7: { ack: e.ack, code: e.code, message: e.message, location: e.location, header: e.header } } : { id: m.id, internal: true };
  }
  return reply;
}

// the mapping is loaded: the listener may send frames here from now on
parentPort!.postMessage({ ready: true });
