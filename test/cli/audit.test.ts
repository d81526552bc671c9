// `migfhir audit verify` (src/cli/audit.ts): a folder without the server's database is an
// error (exit 2), not an intact empty trail; nothing is created in it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

t.test('audit verify on a folder without a database exits 2 and creates nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-audit-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const run = spawnSync(process.execPath, ['src/cli/main.ts', 'audit', 'verify', '--data-dir', dir], { encoding: 'utf8' });
  t.equal(run.status, 2);
  t.match(run.stderr, /no database at .*migfhir\.sqlite/);
  t.notMatch(run.stdout, /intact/);
  t.notOk(existsSync(join(dir, 'migfhir.sqlite')), 'no empty database left behind');
});
