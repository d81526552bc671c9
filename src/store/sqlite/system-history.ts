// System-level `_history` (https://hl7.org/fhir/R4/http.html#history) on SQLite, where versions
// and the audit ledger's AuditEvents are two tables with a sequence each: the two histories are
// merged by the time each entry was stored, newest first, and a page's cursors carry a position
// in both sequences ([seq, ledger seq], HistoryEntry.older / newer). Each sequence is read by
// its own keyset, so paging forward or back never shows an entry twice or skips one, whatever
// the clocks did; the interleaving follows lastUpdated, as a reader of system history expects.
import type { HistoryEntry, HistoryPage, HistoryQuery } from '../types.ts';

/** no bound on a sequence (every seq is below it) */
const NONE = Number.MAX_SAFE_INTEGER;

const time = (e: HistoryEntry) => Date.parse(e.lastUpdated);

/** The page of `q` over both histories: `versions` and `ledger` each answer a HistoryQuery on
 * their own sequence (beforeSeq / afterSeq), as the store's type-level history does. */
export function systemHistory(q: HistoryQuery, versions: (q: HistoryQuery) => HistoryPage, ledger: (q: HistoryQuery) => HistoryPage): HistoryPage {
  const base: HistoryQuery = { count: q.count, ...(q.since !== undefined ? { since: q.since } : {}), ...(q.atStart !== undefined ? { atStart: q.atStart, atEnd: q.atEnd } : {}) };
  // a cursor this server issued before the ledger had a part in it names versions only
  const newerFirst = q.afterSeq === undefined;
  if (newerFirst) {
    let v = q.beforeSeq ?? NONE;
    let l = q.beforeLedgerSeq ?? NONE;
    const vp = versions({ ...base, ...(v !== NONE ? { beforeSeq: v } : {}) });
    const lp = ledger({ ...base, ...(l !== NONE ? { beforeSeq: l } : {}) });
    const [vs, ls] = [vp.entries, lp.entries];
    const entries: HistoryEntry[] = [];
    let i = 0;
    let j = 0;
    while (entries.length < q.count && (i < vs.length || j < ls.length)) {
      // newest first; on the same instant the ledger's first (the reverse of oldest first below)
      const fromLedger = i >= vs.length || (j < ls.length && time(ls[j]) >= time(vs[i]));
      if (fromLedger) {
        const e = ls[j++];
        l = e.seq;
        entries.push({ ...e, older: [v, l], newer: [v === NONE ? NONE : v - 1, e.seq] });
      } else {
        const e = vs[i++];
        v = e.seq;
        entries.push({ ...e, older: [v, l], newer: [e.seq, l === NONE ? NONE : l - 1] });
      }
    }
    const left = i < vs.length || j < ls.length;
    return { entries, hasOlder: left || vp.hasOlder || lp.hasOlder, hasNewer: vp.hasNewer || lp.hasNewer, total: sum(vp.total, lp.total) };
  }
  // newer than the cursor: both oldest first from it, merged, the `count` oldest kept, shown newest first
  let v = q.afterSeq!;
  let l = q.afterLedgerSeq ?? 0;
  const vp = versions({ ...base, afterSeq: v });
  const lp = ledger({ ...base, afterSeq: l });
  const [vs, ls] = [[...vp.entries].reverse(), [...lp.entries].reverse()];
  const entries: HistoryEntry[] = [];
  let i = 0;
  let j = 0;
  while (entries.length < q.count && (i < vs.length || j < ls.length)) {
    const fromVersions = j >= ls.length || (i < vs.length && time(vs[i]) <= time(ls[j]));
    if (fromVersions) {
      const e = vs[i++];
      v = e.seq;
      entries.push({ ...e, newer: [v, l], older: [e.seq, l + 1] });
    } else {
      const e = ls[j++];
      l = e.seq;
      entries.push({ ...e, newer: [v, l], older: [v + 1, e.seq] });
    }
  }
  const left = i < vs.length || j < ls.length;
  return { entries: entries.reverse(), hasOlder: vp.hasOlder || lp.hasOlder, hasNewer: left || vp.hasNewer || lp.hasNewer, total: sum(vp.total, lp.total) };
}

function sum(a: number | undefined, b: number | undefined): number | undefined {
  return a === undefined || b === undefined ? undefined : a + b;
}
