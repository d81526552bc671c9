// Durability: every write answered 2xx survives `kill -9` of the server, and a write that was
// not answered leaves no partial state. A real server runs as a child process on a loopback
// port while 8 writers create and update; it is killed mid-load and restarted on the same data.
import t from 'tap';
import type { ChildProcess } from 'node:child_process';
import { startServer } from '../../scripts/lib/server-process.ts';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function start(dataDir: string) {
  return startServer(['src/cli/main.ts', 'serve', '--dev-open-access'], { MIGFHIR_PORT: '0', MIGFHIR_DATA_DIR: dataDir, MIGFHIR_LOG_LEVEL: 'error' });
}

interface Ack {
  id: string;
  versionId: string;
  body: string;
}

t.test('acknowledged writes survive kill -9; unanswered ones leave nothing partial', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-durability-'));
  let server = await start(dir);
  const children: ChildProcess[] = [server.child];
  t.teardown(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  const acked = new Map<string, Ack>(); // latest acknowledged version per id
  let stop = false;
  let writes = 0;
  const writer = async (w: number) => {
    let n = 0;
    while (!stop) {
      const id = `w${w}-${n % 25}`;
      n++;
      const body = { resourceType: 'Observation', id, status: 'final', code: { text: `writer ${w}` }, valueInteger: n, subject: { reference: `Patient/p${w}` } };
      try {
        const res = await fetch(`${server.base}/Observation/${id}`, { method: 'PUT', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(body) });
        if (res.status === 200 || res.status === 201) {
          const stored = (await res.json()) as { meta: { versionId: string } };
          acked.set(id, { id, versionId: stored.meta.versionId, body: JSON.stringify(body) });
          writes++;
        }
      } catch {
        return; // the server is gone
      }
    }
  };
  const writers = Array.from({ length: 8 }, (_, w) => writer(w));
  // let the load run until enough writes are acknowledged (however busy the machine: a count,
  // not a time, so the test does not depend on speed), then kill without warning
  const began = Date.now();
  while (writes <= 100 && Date.now() - began < 60_000) await new Promise((r) => setTimeout(r, 20));
  const exited = new Promise((r) => server.child.once('exit', r));
  server.child.kill('SIGKILL');
  stop = true;
  await Promise.all(writers);
  await exited;
  t.ok(writes > 100, `${writes} writes acknowledged (${acked.size} resources) before the kill`);

  server = await start(dir);
  children.push(server.child);
  let missing = 0;
  for (const a of acked.values()) {
    const res = await fetch(`${server.base}/Observation/${a.id}/_history/${a.versionId}`);
    if (res.status !== 200) {
      missing++;
      continue;
    }
    const got = (await res.json()) as Record<string, unknown>;
    const { meta: _m, ...content } = got;
    void _m;
    if (JSON.stringify(content) !== a.body) missing++;
  }
  t.equal(missing, 0, 'every acknowledged version is there, with its content');
  // no partial state: every current resource is readable and its history has versions 1..n
  let checked = 0;
  let url: string | undefined = `${server.base}/Observation?_count=100`;
  while (url) {
    const page: any = await (await fetch(url)).json();
    for (const e of page.entry ?? []) {
      const hist: any = await (await fetch(`${server.base}/Observation/${e.resource.id}/_history?_count=1000`)).json();
      const versions = hist.entry.map((h: any) => Number(h.response.etag.replace(/\D/g, ''))).sort((a: number, b: number) => a - b);
      t.same(versions, Array.from({ length: versions.length }, (_, i) => i + 1), `${e.resource.id}: versions 1..${versions.length}`);
      t.equal(String(versions.length), e.resource.meta.versionId, `${e.resource.id}: current version is the newest`);
      checked++;
    }
    url = page.link.find((l: any) => l.relation === 'next')?.url;
  }
  t.ok(checked >= acked.size, `${checked} current resources consistent`);
  server.child.kill('SIGTERM');
});
