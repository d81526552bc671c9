// The endpoints file (every mistake reported with its place, no secrets accepted in it) and the
// `migfhir sync` command end to end: a dry run prints the Bundle and creates nothing, a pull
// fills a data directory, a second pull writes nothing, errors are one line with exit code 1.
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { readEndpoints } from '../../src/sync/endpoints.ts';
import { AMKA, http, listeningServer } from './helpers.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'migfhir-endpoints-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, endpoints: unknown[]): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ endpoints }));
  return path;
}

t.test('a valid file: defaults filled in, key paths relative to the file', async (t) => {
  const path = file('ok.json', [
    { id: 'gr-attikon', name: 'Attikon', baseUrl: 'https://fhir.attikon.example/fhir/', auth: { type: 'header', env: 'ATTIKON_API_KEY', header: 'X-Api-Key' } },
    { id: 'de-national', baseUrl: 'https://fhir.example.de/r4', adapter: 'fhir-r4', timeoutMs: 10000, pageSize: 50, retry: { attempts: 3 }, auth: { type: 'smart-backend-services', clientId: 'lesvos', privateKeyFile: 'keys/lesvos.jwk.json', scope: 'system/Patient.rs' } },
  ]);
  const [a, b] = readEndpoints(path);
  t.equal(a.baseUrl, 'https://fhir.attikon.example/fhir', 'no trailing slash');
  t.equal(a.adapter, 'fhir-r4');
  t.equal(a.timeoutMs, 30000);
  t.equal(a.retry.attempts, 5);
  t.same(a.auth, { type: 'header', env: 'ATTIKON_API_KEY', header: 'X-Api-Key' });
  t.equal(b.retry.attempts, 3);
  t.equal(a.migrationData, false, 'migration data stays unless an endpoint is trusted with it');
  t.equal(b.pageSize, 50);
  t.equal((b.auth as { privateKeyFile: string }).privateKeyFile, join(dir, 'keys/lesvos.jwk.json'));
  t.same(readEndpoints(join(dir, 'absent.json')), [], 'no file, no endpoints');
  const open = readEndpoints(file('none.json', [{ id: 'dev', baseUrl: 'http://127.0.0.1:8080/fhir', auth: 'none' }, { id: 'dev2', baseUrl: 'http://127.0.0.1:8081/fhir', auth: { type: 'none' } }]));
  t.same(open.map((e) => e.auth), [undefined, undefined], 'auth "none": an open development server');
});

t.test('mistakes are named with their place; secrets are refused', async (t) => {
  const cases: [unknown, RegExp][] = [
    [{ id: 'a', baseUrl: 'https://x.example/fhir', auth: { type: 'header', env: 'T', value: 'abc' } }, /endpoints\[0\]\.auth: "value": secrets do not belong in this file/],
    [{ id: 'a', baseUrl: 'https://x.example/fhir', auth: { type: 'smart-backend-services', clientId: 'c', privateKeyFile: 'k', scope: 's', privateKey: {} } }, /"privateKey": put the key in a file/],
    [{ id: 'a', baseUrl: 'https://user:pw@x.example/fhir' }, /endpoints\[0\]\.baseUrl: no credentials in the URL/],
    [{ id: 'a', baseUrl: 'ftp://x.example' }, /endpoints\[0\]\.baseUrl: an absolute http\(s\) URL/],
    [{ id: 'a', baseUrl: 'https://x.example', adapter: 'hl7v2-adt' }, /'hl7v2-adt' does not map FHIR resources/],
    [{ id: 'a', baseUrl: 'https://x.example', adapter: 'nope' }, /'nope' is not a registered adapter/],
    [{ id: 'a b', baseUrl: 'https://x.example' }, /endpoints\[0\]\.id/],
    [{ id: 'a', baseUrl: 'https://x.example', auth: { type: 'basic' } }, /endpoints\[0\]\.auth\.type: none, header or smart-backend-services/],
    [{ id: 'a', baseUrl: 'https://x.example', auth: { type: 'none', env: 'T' } }, /endpoints\[0\]\.auth\.type: none, header or smart-backend-services/],
  ];
  for (const [i, [endpoint, message]] of cases.entries()) t.throws(() => readEndpoints(file(`bad${i}.json`, [endpoint])), { message });
  t.throws(() => readEndpoints(file('dup.json', [{ id: 'a', baseUrl: 'https://x.example' }, { id: 'a', baseUrl: 'https://y.example' }])), { message: /'a' is listed twice/ });
});

t.test('migfhir sync on the command line', async (t) => {
  const { app, base } = await listeningServer();
  t.teardown(() => app.close());
  const seeded = await http('POST', `${base}/Patient`, { resourceType: 'Patient', identifier: [{ system: AMKA, value: '30303030303' }], name: [{ family: 'Rahimi' }] });
  await http('POST', `${base}/Observation`, { resourceType: 'Observation', status: 'final', code: { text: 'pulse' }, subject: { reference: `Patient/${seeded.body.id}` } });
  const endpoints = file('cli.json', [{ id: 'attikon', baseUrl: base, timeoutMs: 5000 }]);
  const data = join(dir, 'data');
  const cli = (...args: string[]) => run(process.execPath, ['src/cli/main.ts', 'sync', ...args, '--data-dir', data, '--endpoints-file', endpoints, '--log-level', 'silent'], { encoding: 'utf8' });
  const identifier = `${AMKA}|30303030303`;

  const dry = await cli('pull', '--from', 'attikon', '--identifier', identifier, '--dry-run');
  const bundle = JSON.parse(dry.stdout);
  t.equal(bundle.type, 'transaction');
  t.same(bundle.entry.map((e: { resource: { resourceType: string } }) => e.resource.resourceType), ['Patient', 'Observation', 'Provenance']);
  t.match(dry.stderr, /dry run: 2 resources from attikon via \$everything; nothing was written/);
  t.notOk(existsSync(join(data, 'migfhir.sqlite')), 'no store was created');

  const first = await cli('pull', '--from', 'attikon', '--identifier', identifier, '--dev-open-access');
  t.match(first.stdout, /^pulled Patient\/[0-9a-f-]+ from attikon: 2 resources via \$everything; 3 created, 0 updated or unchanged\n$/);
  t.equal(first.stderr, '', 'no progress bar when stderr is not a terminal');
  const second = await cli('pull', '--from', 'attikon', '--identifier', identifier, '--dev-open-access');
  t.match(second.stdout, /already up to date, nothing written/);

  const localId = /Patient\/([0-9a-f-]+)/.exec(first.stdout)![1];
  const pushDry = await cli('push', '--to', 'attikon', '--patient', localId, '--dry-run', '--dev-open-access');
  const out = JSON.parse(pushDry.stdout);
  // the record came from this endpoint: its resources are addressed there by their own ids
  t.equal(out.entry[0].request.url, `Patient?_id=${seeded.body.id}`);
  t.equal(out.entry[1].request.url, `Observation?_id=${(await http('GET', `${base}/Observation`)).body.entry[0].resource.id}`);
  t.equal(out.entry[2].request.url, `Provenance?_source=${encodeURIComponent(`http://127.0.0.1:8080/fhir/Provenance/${out.entry[2].resource.meta.source.split('/').pop()}`)}`, 'the local pull Provenance, keyed on its origin here');

  const listed = await cli('endpoints');
  t.equal(listed.stdout, `attikon\t${base}\tfhir-r4\tno auth\n`);

  const failed = await cli('pull', '--from', 'nowhere', '--identifier', identifier).then(() => undefined, (err: { code: number; stderr: string }) => err);
  t.equal(failed?.code, 1);
  t.equal(failed?.stderr, `migfhir sync: no endpoint 'nowhere' in ${endpoints} (give an endpoint id from that file, or a base URL)\n`);
});
