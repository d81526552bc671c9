// A transaction Bundle prepared ahead of the transaction, off the main thread: each entry that
// creates or replaces a resource is given a speculative id (a new random UUID, as the
// transaction would give it), references between entries are rewritten to those ids exactly as
// the transaction rewrites them (bundle-references.ts), and the write pipeline's store-free steps
// (checks, labels, stored JSON, index rows: src/store/prepare) run on the result. The
// transaction then only has to find out whether its guesses hold:
// - an entry is written from its preparation only when it is written under its speculative id
//   (a create, or a conditional update that matched nothing) with the content prepared (the
//   caller attaches a preparation only to an entry it did not change, e.g. by a merge);
// - a reference to another entry that got a different id (a conditional update that matched a
//   stored resource) is patched: the speculative id, a random UUID found nowhere else, is
//   replaced by the real one in the stored JSON and the index rows (reference rows hold ids as
//   written). Only a real id that index extraction keeps unchanged everywhere is patched in
//   (lower-case letters, digits, '-' and '.': string rows fold case); any other leaves the
//   entry to the ordinary path.
// Whatever is not prepared, or does not hold, is written by the ordinary handlers, so the
// stored result is the same either way (test/transport/hl7v2-prepared.test.ts).
import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry } from 'fhir/r4.js';
import { parseReference } from '../fhir/reference.ts';
import type { IndexRows } from '../search/index-rows.ts';
import { VERSION_MARK, type PreparedWrite } from '../store/prepare/prepared.ts';
import { rewrittenCopy } from './bundle-references.ts';

/** The speculative part, made where the Bundle is (a mapping thread). */
export interface Speculation {
  /** per entry: its speculative id, when the entry creates or replaces a resource */
  ids: (string | undefined)[];
  /** per entry: the resource to prepare (JSON, with the speculative id and references
   * rewritten), when it has no conditional reference (those need the store) */
  texts: (string | undefined)[];
  /** fullUrl → the speculative Type/id, as the transaction's reference map */
  targets: [string, string][];
}

/** One entry, prepared. */
export interface PreparedEntry {
  /** the id the entry is written under when the guess holds */
  id: string;
  /** its preparation; absent when only the id was guessed */
  write?: PreparedWrite;
}

/** What a transaction is handed: per entry of the Bundle it runs (same order). */
export interface PreparedBundle {
  entries: (PreparedEntry | undefined)[];
  /** fullUrl → speculative Type/id */
  targets: Map<string, string>;
}

/** Speculative ids and the texts to prepare, for a Bundle as the transaction would get it;
 * `worth` leaves out entries the caller expects to be written otherwise (their ids are still
 * guessed: other entries refer to them). */
export function speculate(bundle: Bundle, worth: (entry: BundleEntry) => boolean = () => true): Speculation {
  const entries = bundle.entry ?? [];
  const ids: (string | undefined)[] = [];
  const targets = new Map<string, string>();
  for (const e of entries) {
    const method = e.request?.method;
    const type = e.resource?.resourceType;
    if (!type || (method !== 'POST' && method !== 'PUT')) {
      ids.push(undefined);
      continue;
    }
    const id = randomUUID();
    ids.push(id);
    if (!e.fullUrl) continue;
    targets.set(e.fullUrl, `${type}/${id}`);
    // as the transaction does: an absolute fullUrl is also referred to by its Type/id
    const ref = parseReference(e.fullUrl);
    if (ref?.kind === 'absolute' && ref.version === undefined) targets.set(`${ref.type}/${ref.id}`, `${type}/${id}`);
  }
  const texts = entries.map((e, i) => {
    if (ids[i] === undefined || !worth(e)) return undefined;
    // rewritten as the transaction will rewrite it, leaving the Bundle's own resource as it is
    const { value, conditional } = rewrittenCopy({ ...e.resource!, id: ids[i] }, targets);
    return conditional ? undefined : JSON.stringify(value);
  });
  return { ids, texts, targets: [...targets] };
}

/** An id extraction copies as it is into every row (see above). */
const PATCHABLE_ID = /^[a-z0-9.-]{1,64}$/;

function idOf(target: string): [type: string, id: string] {
  const slash = target.indexOf('/');
  return [target.slice(0, slash), target.slice(slash + 1)];
}

function patchRows(index: IndexRows, subs: [string, string][]): IndexRows {
  const patch = (v: unknown): unknown => {
    if (typeof v !== 'string') return v;
    let out = v;
    for (const [from, to] of subs) if (out.includes(from)) out = out.replaceAll(from, to);
    return out;
  };
  const out = { ...index } as unknown as Record<string, unknown>;
  for (const [kind, rows] of Object.entries(index)) {
    if (kind === 'sensitive' || !Array.isArray(rows)) continue;
    out[kind] = rows.map((row: Record<string, unknown>) => {
      let copy: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(row)) {
        const p = patch(v);
        if (p !== v) (copy ??= { ...row })[k] = p;
      }
      return copy ?? row;
    });
  }
  return out as unknown as IndexRows;
}

/**
 * The preparation of an entry about to be written, when the transaction's ids confirm it:
 * `targetId` is the id the entry is being written under, `ids` the transaction's map of fullUrls
 * to Type/id. Undefined when the entry must take the ordinary path.
 */
export function confirmedWrite(prepared: PreparedBundle, index: number, targetId: string | undefined, ids: Map<string, string>): PreparedWrite | undefined {
  const entry = prepared.entries[index];
  const write = entry?.write;
  if (!write || targetId !== entry.id) return undefined;
  const subs: [string, string][] = [];
  for (const [fullUrl, guess] of prepared.targets) {
    const actual = ids.get(fullUrl);
    if (actual === guess) continue;
    const [type, guessed] = idOf(guess);
    if (!write.json.includes(guessed)) continue;
    if (!actual) return undefined;
    const [actualType, id] = idOf(actual);
    if (actualType !== type || !PATCHABLE_ID.test(id)) return undefined;
    subs.push([guessed, id]);
  }
  if (!subs.length) return write;
  let json = write.json;
  for (const [from, to] of subs) json = json.replaceAll(from, to);
  return { ...write, json, versionAt: json.indexOf(VERSION_MARK), ...(write.index ? { index: patchRows(write.index, subs) } : {}) };
}
