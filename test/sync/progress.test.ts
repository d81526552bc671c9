// The progress bar: drawn in place on a terminal, absent otherwise, cleared before notes.
import t from 'tap';
import { Progress } from '../../src/sync/progress.ts';

function sink(isTTY: boolean) {
  const chunks: string[] = [];
  return { chunks, out: { isTTY, columns: 80, write: (s: string) => (chunks.push(s), true) } as unknown as NodeJS.WriteStream };
}

t.test('on a terminal: a bar with counts, redrawn with \\r, cleared before a note', async (t) => {
  const { chunks, out } = sink(true);
  let now = 1_000_000;
  const p = new Progress(out, true, () => now);
  p.update('fetching $everything', 30, 120, true);
  t.match(chunks[0], /^\rfetching \$everything \[######------------------\] 30\/120/);
  p.update('fetching $everything', 60, 120);
  now += 99;
  p.update('fetching $everything', 61, 120);
  t.equal(chunks.length, 1, 'at most one redraw per 100 ms');
  now += 1;
  p.update('fetching $everything', 62, 120);
  t.equal(chunks.length, 2, 'redrawn once 100 ms have passed');
  chunks.pop();
  p.update('fetching', 7, undefined, true);
  t.match(chunks[1], /^\rfetching 7/);
  p.note('attempt 1 failed');
  t.match(chunks[2], /^\r +\r$/, 'the bar is cleared first');
  t.equal(chunks[3], 'attempt 1 failed\n');
});

t.test('not a terminal: no bar, notes still written', async (t) => {
  const { chunks, out } = sink(false);
  const p = new Progress(out);
  p.update('fetching', 1, 2, true);
  p.clear();
  p.note('retrying');
  t.same(chunks, ['retrying\n']);
});
