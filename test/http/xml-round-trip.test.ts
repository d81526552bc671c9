// A sample of the R4 examples (every 15th file, about 350 of every kind) through the server:
// JSON PUT → read as XML → the XML PUT back → read as JSON gives the original apart from the
// server's meta, and the XML the server writes reads back to the same XML. The whole package is
// covered in process by test/fhir/xml/round-trip.test.ts.
import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testApp } from '../helpers/app.ts';
import { GENUINELY_INVALID } from '../examples/invalid.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const XML = 'application/fhir+xml';

function strip(r: any) {
  const { meta, ...rest } = r;
  if (!meta) return rest;
  const { versionId: _v, lastUpdated: _l, ...m } = meta;
  return Object.keys(m).length ? { ...rest, meta: m } : rest;
}

t.test('R4 examples: JSON → server → XML → server → JSON', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json' && !GENUINELY_INVALID[f]).sort().filter((_, i) => i % 15 === 0);
  const failures: string[] = [];
  let checked = 0;
  for (const f of files) {
    const path = join(dir, f);
    if (statSync(path).size > 1024 * 1024) continue;
    const text = readFileSync(path, 'utf8');
    const resource = JSON.parse(text);
    if (!resource.id || !app.fhir.types.has(resource.resourceType)) continue;
    // AuditEvents are the server's own trail (the audit ledger): no PUT stores one (405)
    if (resource.resourceType === 'AuditEvent') continue;
    const url = `/fhir/${resource.resourceType}/${resource.id}`;
    const put = await app.inject({ method: 'PUT', url, headers: { 'content-type': 'application/fhir+json' }, payload: text });
    if (put.statusCode >= 300) {
      failures.push(`${f}: JSON PUT ${put.statusCode}`);
      continue;
    }
    const xml = await app.inject({ method: 'GET', url, headers: { accept: XML } });
    const again = await app.inject({ method: 'PUT', url, headers: { 'content-type': XML, accept: XML }, payload: xml.body });
    if (again.statusCode !== 200) {
      failures.push(`${f}: XML PUT ${again.statusCode} ${again.body.slice(0, 300)}`);
      continue;
    }
    const read = await app.inject({ method: 'GET', url });
    t.same(strip(JSON.parse(read.body)), strip(resource), `${f} is the original`);
    const xmlAgain = await app.inject({ method: 'GET', url, headers: { accept: XML } });
    // only meta's version and time may differ between the two versions' XML
    const unversioned = (x: string) => x.replace(/<meta><versionId value="\d+"\/><lastUpdated value="[^"]+"\/>/, '<meta>');
    if (unversioned(xmlAgain.body) !== unversioned(xml.body)) failures.push(`${f}: the XML written again differs`);
    checked++;
  }
  t.same(failures, [], 'every sampled example round-trips');
  t.ok(checked > 300, `${checked} examples through the server`);
});
