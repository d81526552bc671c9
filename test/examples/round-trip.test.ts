// Every instance in the official R4 package (hl7.fhir.r4.examples@4.0.1: the ~700 examples and
// the ~4,500 definitions — StructureDefinitions, SearchParameters, ValueSets…) is stored with
// PUT and read back identical apart from meta.versionId / meta.lastUpdated. Only the large
// definition Bundles (over 1 MB) are skipped.
import t from 'tap';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { testApp } from '../helpers/app.ts';

const dir = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));

import { GENUINELY_INVALID } from './invalid.ts';

function strip(r: any) {
  const { meta, ...rest } = r;
  if (!meta) return rest;
  const { versionId: _v, lastUpdated: _l, ...m } = meta;
  return Object.keys(m).length ? { ...rest, meta: m } : rest;
}

t.test('all official R4 instances round-trip', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const files = readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'package.json');
  let stored = 0;
  const skipped: string[] = [];
  const failures: string[] = [];
  for (const f of files) {
    const path = join(dir, f);
    if (f.startsWith('Bundle-') && statSync(path).size > 1024 * 1024) {
      skipped.push(f);
      continue;
    }
    const text = readFileSync(path, 'utf8');
    const resource = JSON.parse(text);
    if (!resource.id || !app.fhir.types.has(resource.resourceType)) {
      skipped.push(f);
      continue;
    }
    const put = await app.inject({ method: 'PUT', url: `/fhir/${resource.resourceType}/${resource.id}`, headers: { 'content-type': 'application/fhir+json' }, payload: text });
    if (resource.resourceType === 'AuditEvent') {
      // the server's own trail (the audit ledger): no PUT stores one
      t.equal(put.statusCode, 405, `${f} is refused: AuditEvents are written by the server only`);
      continue;
    }
    if (GENUINELY_INVALID[f]) {
      t.ok(put.statusCode === 400 || put.statusCode === 422, `${f} is refused (${put.statusCode}): ${GENUINELY_INVALID[f]}`);
      continue;
    }
    if (put.statusCode !== 201 && put.statusCode !== 200) {
      failures.push(`${f}: PUT ${put.statusCode} ${put.body.slice(0, 300)}`);
      continue;
    }
    const read = await app.inject({ method: 'GET', url: `/fhir/${resource.resourceType}/${resource.id}` });
    if (JSON.stringify(strip(JSON.parse(read.body))) !== JSON.stringify(strip(resource))) {
      // key order may differ (meta moves after id): compare structurally too
      t.same(strip(JSON.parse(read.body)), strip(resource), `${f} reads back identical`);
    }
    stored++;
  }
  t.same(failures, [], 'every example stored');
  t.ok(stored > 5000, `${stored} instances stored and read back; skipped (definition Bundles over 1 MB, non-resources): ${skipped.join(', ') || 'none'}`);
});
