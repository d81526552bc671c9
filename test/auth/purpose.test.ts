// Issue #14, leak 6: the purpose-of-use firewall compared one exact string, so any other
// spelling of immigration enforcement read the data. Every spelling below got 200 before.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { loadConfig } from '../../src/config.ts';
import { parsePurposes, samePurpose } from '../../src/auth/purpose.ts';
import { clientsCommand } from '../../src/cli/clients.ts';
import { readClients } from '../../src/auth/clients.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair } from 'jose';

const REFUSED = 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement';

const SPELLINGS = [
  REFUSED,
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use|Immigration-Enforcement',
  'https://MIGFHIR.org/fhir/CodeSystem/purpose-of-use|IMMIGRATION-ENFORCEMENT',
  'http://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement',
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use/|immigration-enforcement',
  'https://migfhir.org:443/fhir/CodeSystem/purpose-of-use|immigration-enforcement',
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use%7Cimmigration-enforcement',
  encodeURIComponent(REFUSED),
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use | immigration-enforcement',
  `  ${REFUSED}  `,
  `${REFUSED};q=1`,
  'immigration-enforcement',
  'Immigration-Enforcement;q=0.5',
  `TREAT, ${REFUSED.toUpperCase().replace('HTTPS', 'http')}`,
];

const UNPARSEABLE = [
  '|immigration-enforcement',
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use|',
  'a|b|immigration-enforcement',
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use%257Cimmigration-enforcement', // encoded twice
  '%E0%A4%A', // malformed encoding
  'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration%00enforcement',
  'https://migfhir.org/fhir/Code System|immigration-enforcement',
  ';q=1',
];

t.test('normalisation: every spelling of a refused purpose is that purpose', async (t) => {
  const refused = parsePurposes(REFUSED)[0];
  for (const s of SPELLINGS) t.ok(parsePurposes(s).some((p) => samePurpose(p, refused)), s);
  t.notOk(parsePurposes('http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT').some((p) => samePurpose(p, refused)));
  t.notOk(parsePurposes('https://other.example/cs|immigration-enforcement').some((p) => samePurpose(p, refused)), 'another system is another purpose');
  t.same(parsePurposes('TREAT'), [{ code: 'TREAT' }], 'a bare code has no system');
});

t.test('header: every spelling is refused with 403 and audited; an unparseable purpose is 400', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: 'system/Patient.cruds system/AuditEvent.rs' });
  const auth = await bearer('system/Patient.cruds system/AuditEvent.rs');
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' }, auth)).status, 201);
  for (const s of SPELLINGS) {
    const res = await fhir(app, 'GET', '/fhir/Patient/p1', undefined, { ...auth, 'x-purpose-of-use': s });
    t.equal(res.status, 403, s);
    t.equal(res.body.issue[0].code, 'forbidden', s);
  }
  for (const s of UNPARSEABLE) {
    const res = await fhir(app, 'GET', '/fhir/Patient/p1', undefined, { ...auth, 'x-purpose-of-use': s });
    t.equal(res.status, 400, s);
    t.equal(res.body.resourceType, 'OperationOutcome', s);
  }
  const ok = await fhir(app, 'GET', '/fhir/Patient/p1', undefined, { ...auth, 'x-purpose-of-use': 'http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT, ETREAT' });
  t.equal(ok.status, 200, 'care purposes pass');
  await app.fhir.audit!.flush();
  const trail = await fhir(app, 'GET', '/fhir/AuditEvent?outcome=4&_count=100', undefined, auth);
  const refused = trail.body.entry.map((e: any) => e.resource).filter((e: any) => /is refused/.test(e.outcomeDesc));
  t.equal(refused.length, SPELLINGS.length, 'each refusal is audited');
  t.ok(refused.every((e: any) => e.agent[0].altId === 'clinic' && e.purposeOfEvent?.length), 'with the client and the stated purpose');
});

t.test('a refused purpose in a Bundle request refuses every entry', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: 'system/Patient.cruds' });
  const auth = await bearer('system/Patient.cruds');
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1' }, auth);
  const batch = { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/p1' } }, { request: { method: 'GET', url: 'Patient?_id=p1' } }] };
  const res = await fhir(app, 'POST', '/fhir', batch, { ...auth, 'x-purpose-of-use': 'http://migfhir.org/fhir/CodeSystem/purpose-of-use/|Immigration-Enforcement' });
  t.equal(res.status, 403);
  t.notOk(res.raw.includes('"Patient"'), 'no entry was answered');
});

t.test("token claims: a client registered with a refused purpose, in any spelling, reads nothing", async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'border', scope: 'system/Patient.rs', purposeOfUse: ['http://MIGFHIR.org/fhir/CodeSystem/purpose-of-use/|Immigration-Enforcement'] });
  const auth = await bearer('system/Patient.rs');
  t.match(auth.authorization, /^Bearer [A-Za-z0-9]/, 'a token is issued');
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, auth)).status, 403);
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, { ...auth, 'x-purpose-of-use': 'TREAT' })).status, 403, 'adding a care purpose does not help');
});

t.test('development open access applies the same firewall', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, { 'x-purpose-of-use': 'IMMIGRATION-ENFORCEMENT' })).status, 403);
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, { 'x-purpose-of-use': 'a|b|c' })).status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/Patient', undefined, { 'x-purpose-of-use': 'TREAT' })).status, 200);
});

t.test('the refused list is parsed at start-up', async (t) => {
  t.throws(() => loadConfig(['--refused-purposes', 'a|b|c']), /--refused-purposes.*more than one/);
  t.same(loadConfig(['--refused-purposes', 'HMARKT, https://x.example/cs|c']).refusedPurposes, ['HMARKT', 'https://x.example/cs|c']);
});

t.test('a client is registered only with purposes the firewall can read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-purpose-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const jwks = join(dir, 'jwks.json');
  const { publicKey } = await generateKeyPair('RS384', { extractable: true });
  writeFileSync(jwks, JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS384' }] }));
  const clientsFile = join(dir, 'clients.json');
  const add = (purpose: string) => clientsCommand(['add', '--id', 'c', '--jwks', jwks, '--scope', 'system/Patient.rs', '--purpose', purpose, '--clients-file', clientsFile]);
  t.throws(() => add('a|b|c'), /--purpose: .*more than one/);
  t.equal(add(' TREAT , https://x.example/cs | Y '), 0);
  t.same(readClients(clientsFile)[0].purposeOfUse, ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT', 'https://x.example/cs|Y']);
});
