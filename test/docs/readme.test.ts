// The README runs as written: every shell example, in order, in one terminal, against the
// servers it starts itself (test/docs/readme-runner.ts states the conventions). A status or exit
// code that differs from what the text claims fails the test, with the README line.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { claimAt, readmeBlocks, runReadme } from './readme-runner.ts';

const README = resolve(import.meta.dirname, '../../README.md');
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts/readme');

t.test('claims are read from the comments of a command', async (t) => {
  const lines = ['curl -si $B/Patient/d1             # 410 Gone', 'curl -s -X POST $B/x \\', "  -d '{}'   # → 422 with the reason", 'npx migfhir validate bad.json   # exit 1', 'curl -s $B/metadata'];
  t.same(claimAt(lines, 1), { status: 410 });
  t.same(claimAt(lines, 2), { status: 422 });
  t.same(claimAt(lines, 4), { exit: 1 });
  t.same(claimAt(lines, 5), {});
  t.same(claimAt(['curl -s $B/x   # → `"total":1` and → no `migration-status`'], 1), { contains: ['"total":1'], lacks: ['migration-status'] });
  t.same(claimAt(['curl -s $B/x   # 200 → `a`'], 1), { status: 200, contains: ['a'] });
  const blocks = readmeBlocks(['text', '<!-- doc-test: skip: needs Docker -->', '```sh', 'docker build .', '```', '', '```sh', 'echo', '```'].join('\n'));
  t.same(blocks, [{ line: 4, lines: ['docker build .'], skip: 'needs Docker' }, { line: 8, lines: ['echo'], skip: undefined }]);
});

t.test('README.md: every shell example runs in order and answers what the text says', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const readme = readFileSync(README, 'utf8').split('\n');
  mkdirSync(ARTIFACTS, { recursive: true });
  const run = await runReadme(README, dir, 8 * 60_000, join(ARTIFACTS, 'output.txt'));
  const curls = new Set(run.records.filter((r) => r.kind === 'curl').map((r) => r.line));
  const failures: string[] = [];
  for (const r of run.records) {
    const claim = claimAt(readme, r.line);
    const where = `README.md:${r.line}: ${readme[r.line - 1].trim().slice(0, 120)}`;
    if (r.kind === 'curl') {
      if (r.rc) failures.push(`${where}\n    curl failed (exit ${r.rc})`);
      else if (claim.status !== undefined ? r.status !== claim.status : r.status >= 400) failures.push(`${where}\n    answered ${r.status}, the text says ${claim.status ?? '2xx/3xx'}`);
      for (const text of claim.contains ?? []) if (!r.body?.includes(text)) failures.push(`${where}\n    the answer lacks \`${text}\``);
      for (const text of claim.lacks ?? []) if (r.body?.includes(text)) failures.push(`${where}\n    the answer holds \`${text}\``);
    } else if (!curls.has(r.line) && r.status !== (claim.exit ?? 0)) failures.push(`${where}\n    exited ${r.status}, the text says ${claim.exit ?? 0}`);
  }
  // a command that claims a non-zero exit must have failed
  t.ok(run.records.filter((r) => r.kind === 'curl').length > 50, `the examples made ${run.records.length} checked calls`);
  t.same(failures, [], `every example answers as the README says (output in test-artifacts/readme/output.txt)`);
  const skipped = readmeBlocks(readme.join('\n')).filter((b) => b.skip);
  t.comment(`README: ${readmeBlocks(readme.join('\n')).length - skipped.length} blocks run, ${skipped.length} skipped: ${skipped.map((b) => `line ${b.line} (${b.skip})`).join('; ')}`);
});
