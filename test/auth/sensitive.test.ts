import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { writeClient } from '../../src/auth/clients.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir } from '../helpers/app.ts';

const BASE = 'http://test.local/fhir';
const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';

t.test('migration status is labelled, redacted without the scope, and not searchable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-sensitive-'));
  const keys = await generateKeyPair('ES384', { extractable: true });
  const clientsFile = join(dir, 'clients.json');
  writeClient(clientsFile, { clientId: 'c', jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES384' }] }, scope: 'system/*.cruds migfhir/migration-data.read' });
  const store = new SqliteStore({ path: ':memory:' });
  const app = await buildApp(testConfig({ baseUrl: BASE, devOpenAccess: false, dataDir: dir, clientsFile }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const token = async (scope: string) => {
    const a = await new SignJWT({}).setProtectedHeader({ alg: 'ES384', kid: 'k' }).setIssuer('c').setSubject('c').setAudience(`${BASE}/auth/token`).setExpirationTime('4m').setJti(randomUUID()).sign(keys.privateKey);
    const r = await app.inject({ method: 'POST', url: '/fhir/auth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: a }).toString() });
    return { authorization: `Bearer ${JSON.parse(r.body).access_token}` };
  };
  const full = await token('system/*.cruds migfhir/migration-data.read');
  const plain = await token('system/Patient.rs');
  const patient = {
    resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }],
    extension: [
      { url: 'http://hl7.org/fhir/StructureDefinition/patient-nationality', extension: [{ url: 'code', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'SY' }] } }] },
      { url: STATUS_EXT, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] },
    ],
  };
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, full)).status, 201);
  const seen = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, full)).body;
  t.ok(seen.extension.some((e: any) => e.url === STATUS_EXT), 'the scope sees migration status');
  t.ok(seen.meta.security.some((s: any) => s.code === 'R'), 'labelled restricted');
  t.ok(seen.meta.security.some((s: any) => s.code === 'migration'), 'labelled as migration data');
  const redacted = (await fhir(app, 'GET', '/fhir/Patient/p1', undefined, plain)).body;
  t.notOk(redacted.extension.some((e: any) => e.url === STATUS_EXT), 'removed without the scope');
  t.ok(redacted.extension.some((e: any) => e.url.endsWith('patient-nationality')), 'other extensions stay');
  t.ok(redacted.meta.security.some((s: any) => s.code === 'REDACTED'), 'marked REDACTED');
  const search = (await fhir(app, 'GET', '/fhir/Patient?name=haddad', undefined, plain)).body;
  t.notOk(JSON.stringify(search).includes('asylum-applicant'), 'search results are redacted too');
  const sp = { resourceType: 'SearchParameter', id: 'ms', url: 'https://migfhir.org/fhir/SearchParameter/migration-status', name: 'migration-status', status: 'active', description: 'x', code: 'migration-status', base: ['Patient'], type: 'token', expression: `Patient.extension('${STATUS_EXT}').extension('status').value` };
  t.equal((await fhir(app, 'PUT', '/fhir/SearchParameter/ms', sp, full)).status, 201);
  await fhir(app, 'PUT', '/fhir/Patient/p1', { ...patient, active: true }, full);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?migration-status=asylum-applicant', undefined, full)).body.total, 1);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?migration-status=asylum-applicant', undefined, plain)).status, 403, 'no searching on it without the scope');
  const unlabelled = await fhir(app, 'PUT', '/fhir/Patient/p2', { resourceType: 'Patient', id: 'p2' }, full);
  t.notOk(unlabelled.body.meta.security, 'resources without sensitive elements get no labels');
});
