// The server's one search parser (src/search/parser.ts): a query means the same wherever it is
// written. Each query of the table is sent as a search, then as the criteria of If-None-Exist,
// a conditional update, a conditional delete and a transaction's conditional reference; each
// door must answer as the search's matches say (none, one, several, or the same 400), on the
// SQLite engine and on the MongoDB engine's compiler over mingo.
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import type { Resource } from 'fhir/r4.js';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';

const CS = 'https://migfhir.org/fhir/CodeSystem/referral-parity';
const VS = 'https://migfhir.org/fhir/ValueSet';
const SID = 'https://migfhir.org/fhir/sid/case';

const patient = (id: string, gender: string, family: string, given: string, birthDate?: string): Resource =>
  ({ resourceType: 'Patient', id, gender, name: [{ family, given: [given] }], identifier: [{ system: SID, value: id.toUpperCase() }], ...(birthDate ? { birthDate } : {}) }) as Resource;
const referral = (id: string, code: string, subject: string): Resource =>
  ({ resourceType: 'ServiceRequest', id, status: 'active', intent: 'order', category: [{ coding: [{ system: CS, code }] }], subject: { reference: `Patient/${subject}` } }) as Resource;

const FIXTURES: Resource[] = [
  // mhpss > trauma, counselling; tb on its own
  { resourceType: 'CodeSystem', id: 'referral-parity', url: CS, status: 'active', content: 'complete', concept: [{ code: 'mhpss', display: 'Mental health', concept: [{ code: 'trauma', display: 'Trauma care' }, { code: 'counselling', display: 'Counselling' }] }, { code: 'tb', display: 'TB follow-up' }] } as Resource,
  { resourceType: 'ValueSet', id: 'mf', url: `${VS}/mf-parity`, status: 'active', compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'male' }, { code: 'female' }] }] } } as Resource,
  { resourceType: 'ValueSet', id: 'mf-v2', url: `${VS}/mf-parity-2`, status: 'active', compose: { include: [{ system: 'http://hl7.org/fhir/administrative-gender', concept: [{ code: 'other' }] }] } } as Resource,
  patient('amal', 'female', 'Haddad', 'Amal', '1990-01-01'),
  patient('omar', 'male', 'Haddad', 'Omar'),
  patient('sami', 'other', 'Nour', 'Sami', '1985-06-30'),
  referral('s1', 'trauma', 'amal'),
  referral('s2', 'mhpss', 'omar'),
  referral('s3', 'tb', 'sami'),
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8310-5', display: 'Body temperature' }] }, subject: { reference: 'Patient/amal' } } as Resource,
];

/** A new resource of the type, written when a conditional create or update matches nothing. */
const NEW: Record<string, Resource> = {
  Patient: { resourceType: 'Patient', gender: 'unknown' } as Resource,
  ServiceRequest: { resourceType: 'ServiceRequest', status: 'draft', intent: 'proposal', subject: { reference: 'Patient/amal' } } as Resource,
  Observation: { resourceType: 'Observation', status: 'registered', code: { text: 'new' } } as Resource,
  ValueSet: { resourceType: 'ValueSet', status: 'draft' } as Resource,
};

/** [type, query, the matches by hand, or the status every door answers] */
const QUERIES: [string, string, string[] | number][] = [
  ['Patient', `gender:in=${VS}/mf-parity`, ['amal', 'omar']],
  ['Patient', `gender:not-in=${VS}/mf-parity`, ['sami']],
  ['Patient', `gender:in=${VS}/mf-parity&family=haddad&given=am`, ['amal']],
  ['Patient', `gender:in=${VS}/mf-parity-2`, ['sami']],
  ['Patient', 'gender:in=https://example.org/no-such-value-set', 400],
  ['ServiceRequest', `category:below=${CS}|mhpss`, ['s1', 's2']],
  ['ServiceRequest', `category:below=${CS}|tb`, ['s3']],
  ['ServiceRequest', `category:above=${CS}|trauma&subject=Patient/amal`, ['s1']],
  ['ServiceRequest', `category:above=${CS}|counselling`, ['s2']],
  ['ServiceRequest', 'category:below=http://snomed.info/sct|40733004', 400],
  ['Observation', 'code:text=temperature', ['o1']],
  ['Observation', 'code:text=pressure', []],
  ['Patient', 'birthdate:missing=true', ['omar']],
  ['Patient', 'birthdate:missing=false&gender:not=female', ['sami']],
  ['Patient', 'family:contains=adda', ['amal', 'omar']],
  ['Patient', 'family:exact=Nour', ['sami']],
  ['ServiceRequest', `subject:Patient.identifier=${SID}|SAMI`, ['s3']],
  ['ServiceRequest', `subject.gender:in=${VS}/mf-parity&category=${CS}|trauma`, ['s1']],
  ['Patient', `_has:ServiceRequest:subject:category:below=${CS}|mhpss`, ['amal', 'omar']],
  ['Patient', `_has:ServiceRequest:subject:category=${CS}|tb`, ['sami']],
  ['Patient', '_has:Observation:subject:code:text=temperature', ['amal']],
  ['ValueSet', `url:below=${VS}/mf-parity`, ['mf', 'mf-v2']],
  ['ValueSet', `url:above=${VS}/mf-parity/v2`, ['mf']],
  ['Patient', 'family:sounds-like=Hadad', 400],
  ['Patient', 'gender:text=female&gender:below=x', 400],
];

function queryString(q: string): string {
  return q.split('&').map((p) => {
    const i = p.indexOf('=');
    return `${encodeURIComponent(p.slice(0, i))}=${encodeURIComponent(p.slice(i + 1))}`;
  }).join('&');
}

const idOfLocation = (location: unknown) => String(location ?? '').match(/\/([^/]+)\/_history\//)?.[1];

async function load(app: FastifyInstance): Promise<void> {
  for (const r of FIXTURES) {
    const res = await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r);
    if (res.status !== 201) throw new Error(`PUT ${r.resourceType}/${r.id}: ${res.status} ${res.raw.slice(0, 300)}`);
  }
}

/** Puts a fixture back as it was (after a conditional delete or update touched it). */
async function restore(app: FastifyInstance, type: string, ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = FIXTURES.find((f) => f.resourceType === type && f.id === id)!;
    await fhir(app, 'PUT', `/fhir/${type}/${id}`, r);
  }
}

async function searchDoor(app: FastifyInstance, type: string, q: string): Promise<string[] | number> {
  const res = await fhir(app, 'GET', `/fhir/${type}?${queryString(q)}`, undefined, { prefer: 'handling=strict' });
  if (res.status !== 200) return res.status;
  return (res.body.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id).sort();
}

/** What a conditional interaction should answer for a search's matches: the one match, 'none'
 * (it creates, or has nothing to delete), 412 for several, or the search's error status. */
function expectedOutcome(matches: string[] | number): string | number {
  if (typeof matches === 'number') return matches;
  if (matches.length === 1) return matches[0];
  return matches.length === 0 ? 'none' : 412;
}

async function ifNoneExist(app: FastifyInstance, type: string, q: string): Promise<string | number> {
  const res = await fhir(app, 'POST', `/fhir/${type}`, NEW[type], { 'if-none-exist': queryString(q) });
  if (res.status === 201) {
    await fhir(app, 'DELETE', `/fhir/${type}/${res.body.id}`);
    return 'none';
  }
  return res.status === 200 ? res.body.id : res.status;
}

async function conditionalUpdate(app: FastifyInstance, type: string, q: string, matches: string[] | number): Promise<string | number> {
  // the one match is written back as it is; with none, a new resource is created
  const body = Array.isArray(matches) && matches.length === 1 ? { ...FIXTURES.find((f) => f.resourceType === type && f.id === matches[0])! } : NEW[type];
  const res = await fhir(app, 'PUT', `/fhir/${type}?${queryString(q)}`, body);
  if (res.status === 201) {
    await fhir(app, 'DELETE', `/fhir/${type}/${res.body.id}`);
    return 'none';
  }
  return res.status === 200 ? res.body.id : res.status;
}

async function conditionalDelete(app: FastifyInstance, type: string, q: string, matches: string[] | number): Promise<string | number> {
  const res = await fhir(app, 'DELETE', `/fhir/${type}?${queryString(q)}`);
  if (res.status !== 200) return res.status;
  const gone: string[] = [];
  for (const id of Array.isArray(matches) ? matches : []) if ((await fhir(app, 'GET', `/fhir/${type}/${id}`)).status === 410) gone.push(id);
  await restore(app, type, gone);
  return gone.length === 1 ? gone[0] : gone.length === 0 ? 'none' : 412;
}

async function transactionReference(app: FastifyInstance, type: string, q: string): Promise<string | number> {
  const bundle = {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ fullUrl: 'urn:uuid:2b1c7e1e-4d0a-4c47-9f0e-0d3c1a5b7f10', request: { method: 'POST', url: 'List' }, resource: { resourceType: 'List', status: 'current', mode: 'working', entry: [{ item: { reference: `${type}?${queryString(q)}` } }] } }],
  };
  const res = await fhir(app, 'POST', '/fhir', bundle);
  if (res.status !== 200) return res.status;
  const listId = idOfLocation(res.body.entry[0].response.location)!;
  const list = await fhir(app, 'GET', `/fhir/List/${listId}`);
  await fhir(app, 'DELETE', `/fhir/List/${listId}`);
  const ref: string = list.body.entry[0].item.reference;
  return ref.startsWith(`${type}/`) ? ref.slice(type.length + 1) : ref;
}

async function parity(t: Test, app: FastifyInstance): Promise<void> {
  await load(app);
  for (const [type, q, expected] of QUERIES) {
    await t.test(`${type}?${q}`, async (t) => {
      const matches = await searchDoor(app, type, q);
      t.same(matches, expected, 'the search finds what the fixtures hold');
      const outcome = expectedOutcome(matches);
      t.same(await ifNoneExist(app, type, q), outcome, 'If-None-Exist');
      t.same(await conditionalUpdate(app, type, q, matches), outcome, 'conditional update');
      t.same(await conditionalDelete(app, type, q, matches), outcome, 'conditional delete');
      // a conditional reference needs exactly one match: none is a 412 too
      t.same(await transactionReference(app, type, q), outcome === 'none' ? 412 : outcome, 'transaction conditional reference');
      t.same(await searchDoor(app, type, q), expected, 'the doors left the data as it was');
    });
  }
}

t.test('SQLite: every door parses a query as the search does', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await parity(t, app);
});

t.test('MongoDB compiler on mingo: every door parses a query as the search does', async (t) => {
  const store = new MingoSearchStore();
  const app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  t.teardown(async () => {
    await app.close();
    await store.close();
  });
  await parity(t, app);
});

t.test('an unsupported modifier is the same 400 in a search and in If-None-Exist', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const search = await fhir(app, 'GET', '/fhir/Patient?birthdate:exact=1990');
  const create = await fhir(app, 'POST', '/fhir/Patient', NEW.Patient, { 'if-none-exist': 'birthdate:exact=1990' });
  t.equal(search.status, 400);
  t.equal(create.status, 400);
  t.same(create.body.issue, search.body.issue, 'the same OperationOutcome');
  t.match(search.body.issue[0].diagnostics, /Modifier :exact is not supported on date parameter 'birthdate'/);
});
