// The one route table (src/rest/route-table.ts): what the CapabilityStatement lists is routable
// over HTTP and as a Bundle entry, Bundle entries answer operations as HTTP does, a writing
// operation in a transaction is atomic with the rest, and every operation's definition is
// served and matches the parameters its handler takes.
import t from 'tap';
import type { FastifyInstance } from 'fastify';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';

type App = Awaited<ReturnType<typeof testApp>>;

const PHQ9 = 'https://migfhir.org/fhir/Questionnaire/phq-9';
const ANSWERS = ['LA6568-5', 'LA6569-3', 'LA6570-1', 'LA6571-9'];
const phq9 = (score: number) => ({
  resourceType: 'QuestionnaireResponse',
  status: 'completed',
  questionnaire: PHQ9,
  subject: { reference: 'Patient/p1' },
  authored: '2026-03-02T10:15:00Z',
  item: Array.from({ length: 9 }, (_, i) => ({ linkId: `phq9-${i + 1}`, answer: [{ valueCoding: { system: 'http://loinc.org', code: ANSWERS[score], display: 'x' } }] })),
});
const patient = (id: string, family: string) => ({ resourceType: 'Patient', id, name: [{ family, given: ['Amal'] }], gender: 'female', birthDate: '1990-04-02', identifier: [{ system: 'urn:example:stp', value: `STP-${id}` }] });

async function seed(app: App): Promise<void> {
  for (const p of [patient('p1', 'Haddad'), patient('p2', 'Haddad'), patient('p3', 'Müller')]) {
    if ((await fhir(app, 'PUT', `/fhir/Patient/${p.id}`, p)).status !== 201) throw new Error(`seeding Patient/${p.id} failed`);
  }
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } });
}

// What FHIR lets a client send: GET only to operations that change nothing and take no
// resource ($match takes a Patient); the exports answer GET only.
const takesGet = (od: any) => !od.affectsState && od.code !== 'match';
const takesPost = (od: any) => od.code !== 'export-national' && od.code !== 'hl7v2-export';

const batch = (entry: unknown[], type = 'batch') => ({ resourceType: 'Bundle', type, entry });

/** One entry's answer in a batch: its status and its resource or outcome. */
async function asEntry(app: App, method: string, url: string, resource?: unknown, prefer?: string) {
  const res = await fhir(app, 'POST', '/fhir', batch([{ request: { method, url }, ...(resource ? { resource } : {}) }]), prefer ? { prefer } : {});
  t.equal(res.status, 200, `batch with ${method} ${url}`);
  const e = res.body.entry[0];
  return { status: Number(e.response.status.split(' ')[0]), body: e.resource ?? e.response.outcome };
}

/** Neither the server's nor Fastify's "no such route". */
function routed(status: number, body: any): boolean {
  return status !== 405 && !(status === 404 && /No FHIR interaction/.test(body?.issue?.[0]?.diagnostics ?? ''));
}

/** A body as both doors answer it, without what differs per call (ids of generated Bundles, times). */
function comparable(body: any): any {
  if (!body || typeof body !== 'object') return body;
  const { id: _id, issued: _issued, timestamp: _timestamp, meta, ...rest } = body;
  void _id, void _issued, void _timestamp;
  // an expansion's identifier and time are its own
  if (rest.expansion) rest.expansion = { ...rest.expansion, identifier: undefined, timestamp: undefined };
  const kept = meta ? Object.fromEntries(Object.entries(meta).filter(([k]) => k !== 'lastUpdated' && k !== 'versionId')) : undefined;
  return { ...rest, ...(kept && Object.keys(kept).length ? { meta: kept } : {}) };
}

t.test('operation entries in a batch answer as the HTTP route does', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await seed(app);
  const cases: [string, string, unknown][] = [
    ['POST', 'Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { resourceType: 'Patient', name: [{ family: 'Haddad', given: ['Amal'] }], birthDate: '1990-04-02', gender: 'female' } }] }],
    ['POST', 'Patient/$validate', { resourceType: 'Patient', name: [{ family: 'Valid' }], gender: 'not-a-gender' }],
    ['POST', 'Observation/$validate', { resourceType: 'Observation', status: 'final', code: { text: 'x' } }],
    ['GET', 'Patient/p1/$everything', undefined],
    ['POST', 'QuestionnaireResponse/$score', phq9(2)],
    ['GET', 'ValueSet/$expand?url=http%3A%2F%2Fhl7.org%2Ffhir%2FValueSet%2Fadministrative-gender', undefined],
  ];
  // an operation's answer is its result: the Bundle's Prefer return= (which shapes create,
  // update and patch answers) does not take it away
  for (const prefer of [undefined, 'return=representation', 'return=minimal']) {
    for (const [method, url, body] of cases) {
      const http = await fhir(app, method as 'GET' | 'POST', `/fhir/${url}`, body);
      const entry = await asEntry(app, method, url, body, prefer);
      t.not(http.status, 404, `${method} ${url} is routed`);
      t.equal(entry.status, http.status, `${method} ${url} (Prefer: ${prefer ?? 'none'}): same status (${http.status})`);
      t.same(comparable(entry.body), comparable(http.body), `${method} ${url} (Prefer: ${prefer ?? 'none'}): same answer`);
    }
  }
  // $match found the other Haddad records, and $validate reported the bad code
  t.ok((await asEntry(app, 'POST', cases[0][1], cases[0][2])).body.entry.length >= 1);
  t.match((await asEntry(app, 'POST', cases[1][1], cases[1][2])).body.issue.map((i: any) => i.severity), ['error']);
});

t.test('a writing operation in a transaction commits and rolls back with the other entries', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await seed(app);
  const count = async (type: string) => (await fhir(app, 'GET', `/fhir/${type}?_summary=count`)).body.total;
  const badEntry = { request: { method: 'PUT', url: 'Patient/bad' }, resource: { resourceType: 'Patient', id: 'bad', active: 'yes' } };
  const scoreEntry = { request: { method: 'POST', url: 'QuestionnaireResponse/$score?persist=true' }, resource: phq9(1) };
  const mergeEntry = {
    request: { method: 'POST', url: 'Patient/$merge' },
    resource: { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/p2' } }, { name: 'target-patient', valueReference: { reference: 'Patient/p1' } }] },
  };

  const failed = await fhir(app, 'POST', '/fhir', batch([scoreEntry, mergeEntry, badEntry], 'transaction'));
  t.equal(failed.status, 400, 'the invalid entry fails the transaction');
  t.match(failed.body.issue[0].diagnostics, /Bundle\.entry\[2\]/);
  t.equal(await count('Observation'), 1, 'the persisted score was rolled back');
  t.equal(await count('QuestionnaireResponse'), 0, 'the scored response was rolled back');
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/p2')).body.link, 'the merge was rolled back');

  const ok = await fhir(app, 'POST', '/fhir', batch([scoreEntry, mergeEntry], 'transaction'), { prefer: 'return=representation' });
  t.equal(ok.status, 200);
  t.same(ok.body.entry.map((e: any) => e.response.status.split(' ')[0]), ['201', '200']);
  t.equal(ok.body.entry[0].resource.resourceType, 'Observation');
  t.equal(await count('Observation'), 2, 'the score was stored');
  t.equal(await count('QuestionnaireResponse'), 1, 'with its response');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p2')).body.link[0].type, 'replaced-by', 'the merge was applied');
});

t.test('operations that cannot be part of a transaction say so', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const url of ['$reindex', 'Patient/$reindex', '$import-summary', '$import-national?adapter=de', '$import-csv', '$hl7v2-ingest']) {
    const res = await fhir(app, 'POST', '/fhir', batch([{ request: { method: 'POST', url }, resource: { resourceType: 'Parameters' } }], 'transaction'));
    t.equal(res.status, 400, url);
    t.match(res.body.issue[0].diagnostics, /cannot be part of a transaction/, url);
    t.equal(res.body.issue[0].code, 'not-supported');
  }
  // a Bundle is not an entry of a Bundle
  const nested = await fhir(app, 'POST', '/fhir', batch([{ request: { method: 'POST', url: '/' }, resource: batch([]) }]));
  t.match(nested.body.entry[0].response.status, /^404/);
});

/** The concrete requests of the CapabilityStatement's interactions, over HTTP and as entries. */
function interactionRequests(code: string): { method: string; url: string; body?: unknown; entryBody?: unknown }[] {
  const p = { resourceType: 'Patient', id: 'p3', name: [{ family: 'Müller' }] };
  const jsonPatch = [{ op: 'add', path: '/gender', value: 'male' }];
  switch (code) {
    case 'read': return [{ method: 'GET', url: 'Patient/p1' }];
    case 'vread': return [{ method: 'GET', url: 'Patient/p1/_history/1' }];
    case 'update': return [{ method: 'PUT', url: 'Patient/p3', body: p }];
    case 'patch': return [{ method: 'PATCH', url: 'Patient/p3', body: jsonPatch, entryBody: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(jsonPatch)).toString('base64') } }];
    case 'delete': return [{ method: 'DELETE', url: 'Observation/none' }];
    case 'history-instance': return [{ method: 'GET', url: 'Patient/p1/_history' }];
    case 'history-type': return [{ method: 'GET', url: 'Patient/_history' }];
    case 'create': return [{ method: 'POST', url: 'Observation', body: { resourceType: 'Observation', status: 'final', code: { text: 'x' } } }];
    case 'search-type': return [{ method: 'GET', url: 'Patient?name=Haddad' }, { method: 'GET', url: 'Patient/p1/Observation' }];
    case 'history-system': return [{ method: 'GET', url: '_history' }];
    case 'search-system': return [{ method: 'GET', url: '?_type=Patient' }];
    default: throw new Error(`no request for interaction ${code}`);
  }
}

async function jsonOf(app: FastifyInstance, url: string) {
  return (await fhir(app, 'GET', url)).body;
}

t.test('every CapabilityStatement interaction and operation is routable over HTTP and in a batch, and every operation definition resolves', async (t) => {
  const app = await testApp({ installIg: true });
  t.teardown(() => app.close());
  await seed(app);
  t.equal((await fhir(app, 'PUT', '/fhir/QuestionnaireResponse/qr1', { ...phq9(1), id: 'qr1' })).status, 201);
  const cs = await jsonOf(app, '/fhir/metadata');
  const rest = cs.rest[0];
  t.same(rest.interaction.map((i: any) => i.code).sort(), ['batch', 'history-system', 'search-system', 'transaction']);
  const patientResource = rest.resource.find((r: any) => r.type === 'Patient');
  const codes = [...patientResource.interaction.map((i: any) => i.code), ...rest.interaction.map((i: any) => i.code)];
  for (const code of codes) {
    if (code === 'transaction' || code === 'batch') continue; // POST [base] itself: a Bundle is not an entry
    for (const r of interactionRequests(code)) {
      const http = await fhir(app, r.method as 'GET', `/fhir/${r.url}`, r.body, r.method === 'PATCH' ? { 'content-type': 'application/json-patch+json' } : {});
      t.ok(routed(http.status, http.body), `${code}: HTTP ${r.method} ${r.url} → ${http.status}`);
      t.ok(http.status < 300 || (code === 'delete' && http.status === 404) || (code === 'delete' && http.status === 204), `${code}: HTTP answer ${http.status}`);
      const entry = await asEntry(app, r.method, r.url, r.entryBody ?? r.body);
      t.ok(routed(entry.status, entry.body) && entry.status < 300 || code === 'delete', `${code}: entry ${r.method} ${r.url} → ${entry.status}`);
    }
  }

  // every operation, wherever it is listed: its definition is served, and each of its routes answers
  const listed = new Map<string, { name: string; types: string[] }>();
  for (const o of rest.operation ?? []) listed.set(o.definition, { name: o.name, types: [] as string[] });
  for (const r of rest.resource) {
    for (const o of r.operation ?? []) {
      const l = listed.get(o.definition) ?? { name: o.name, types: [] as string[] };
      l.types.push(r.type);
      listed.set(o.definition, l);
    }
  }
  t.ok(listed.size >= 20, `${listed.size} operations listed`);
  const ids: Record<string, string> = { Patient: 'p1' };
  for (const [definition, { name, types }] of listed) {
    const found = await jsonOf(app, `/fhir/OperationDefinition?url=${encodeURIComponent(definition)}`);
    t.equal(found.total ?? found.entry?.length, 1, `${definition} resolves`);
    const od = found.entry[0].resource;
    t.equal(od.code, name);
    t.same(await jsonOf(app, `/fhir/OperationDefinition/${od.id}`), od, 'and is readable by id');
    if (od.base) t.match(od.base, /^http:\/\/hl7\.org\/fhir\//, 'a standard operation narrows the HL7 definition');
    const type = types.includes('Patient') ? 'Patient' : types[0];
    if (type && !ids[type]) ids[type] = (await jsonOf(app, `/fhir/${type}?_count=1`)).entry?.[0]?.resource?.id ?? 'none';
    const urls = [
      ...(od.system ? [`$${name}`] : []),
      ...(od.type && type ? [`${type}/$${name}`] : []),
      ...(od.instance && type ? [`${type}/${ids[type]}/$${name}`] : []),
    ];
    t.ok(urls.length, `${name} has routes`);
    // a call without its parameters: routed, answered (often 400 for a missing one), nothing written
    const method = takesGet(od) ? 'GET' : 'POST';
    for (const url of urls) {
      const body = method === 'POST' ? { resourceType: 'Parameters' } : undefined;
      const http = await fhir(app, method, `/fhir/${url}`, body);
      t.ok(routed(http.status, http.body) && http.status !== 404, `HTTP ${method} ${url} → ${http.status}`);
      const entry = await asEntry(app, method, url, body);
      t.ok(routed(entry.status, entry.body) && entry.status !== 404, `entry ${method} ${url} → ${entry.status}`);
    }
  }
  await app.fhir.jobs.idle();
});

/** A value of the parameter's type, as a Parameters parameter and as a query value. */
function valueOf(p: { name: string; type?: string }): { parameter: Record<string, unknown>; query: string } {
  const type = p.type ?? 'string';
  if (type === 'boolean') return { parameter: { name: p.name, valueBoolean: true }, query: 'true' };
  if (type === 'integer') return { parameter: { name: p.name, valueInteger: 1 }, query: '1' };
  if (type === 'Reference') return { parameter: { name: p.name, valueReference: { reference: 'Patient/p1' } }, query: 'Patient/p1' };
  if (type === 'Meta') return { parameter: { name: p.name, valueMeta: { tag: [{ system: 'urn:example', code: 'x' }] } }, query: 'x' };
  if (type === 'Coding') return { parameter: { name: p.name, valueCoding: { system: 'http://hl7.org/fhir/administrative-gender', code: 'male' } }, query: 'x' };
  if (type === 'CodeableConcept') return { parameter: { name: p.name, valueCodeableConcept: { coding: [{ system: 'http://hl7.org/fhir/administrative-gender', code: 'male' }] } }, query: 'x' };
  if (/^[A-Z]/.test(type)) return { parameter: { name: p.name, resource: { resourceType: type === 'Resource' ? 'Patient' : type } }, query: 'x' };
  if (type === 'date' || type === 'instant') return { parameter: { name: p.name, valueDate: '2020-01-01' }, query: '2020-01-01' };
  if (type === 'base64Binary') return { parameter: { name: p.name, valueBase64Binary: 'eA==' }, query: 'eA==' };
  return { parameter: { name: p.name, valueString: 'x' }, query: 'x' };
}

t.test("each operation takes the parameters its OperationDefinition declares, and no other", async (t) => {
  const app = await testApp({ installIg: true });
  t.teardown(() => app.close());
  await seed(app);
  const all = await jsonOf(app, '/fhir/OperationDefinition?_count=100');
  const defs = all.entry.map((e: any) => e.resource).filter((d: any) => d.url.startsWith('https://migfhir.org/fhir/OperationDefinition/'));
  t.ok(defs.length >= 20);
  const refused = (body: any) => /does not take the parameter/.test(body?.issue?.[0]?.diagnostics ?? '');
  for (const od of defs) {
    const type = od.resource?.[0] === 'Resource' ? 'Patient' : od.resource?.[0];
    const url = od.type ? `/fhir/${type}/$${od.code}` : od.system ? `/fhir/$${od.code}` : `/fhir/${type}/${type === 'Patient' ? 'p1' : 'none'}/$${od.code}`;
    const inputs = (od.parameter ?? []).filter((p: any) => p.use === 'in');
    const post = takesPost(od);
    for (const p of inputs) {
      const v = valueOf(p);
      // a POST with a Parameters body, and (for operations that change nothing) a GET with the query
      const viaBody = post ? await fhir(app, 'POST', url, { resourceType: 'Parameters', parameter: [v.parameter] }) : undefined;
      if (viaBody) t.notOk(refused(viaBody.body), `${od.code}: ${p.name} in the body is taken (${viaBody.status})`);
      if (takesGet(od)) {
        const viaQuery = await fhir(app, 'GET', `${url}?${encodeURIComponent(p.name)}=${encodeURIComponent(v.query)}`);
        t.notOk(refused(viaQuery.body), `${od.code}: ${p.name} in the query is taken (${viaQuery.status})`);
      }
    }
    const method = takesGet(od) ? 'GET' : 'POST';
    const undeclared = await fhir(app, method, `${url}?bogus=1`, method === 'POST' ? { resourceType: 'Parameters' } : undefined);
    t.equal(undeclared.status, 400, `${od.code}: an undeclared parameter is refused`);
    t.ok(refused(undeclared.body), `${od.code}: and the answer says which`);
    const lenient = await fhir(app, method, `${url}?bogus=1`, method === 'POST' ? { resourceType: 'Parameters' } : undefined, { prefer: 'handling=lenient' });
    t.notOk(refused(lenient.body), `${od.code}: Prefer: handling=lenient ignores it (${lenient.status})`);
  }
  const inBody = await fhir(app, 'POST', '/fhir/Patient/$match', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: patient('x', 'Haddad') }, { name: 'bogus', valueString: 'x' }] });
  t.equal(inBody.status, 400);
  t.match(inBody.body.issue[0].diagnostics, /'bogus'/);
  await app.fhir.jobs.idle();
});

t.test('a route refuses a token without the permissions it declares, over HTTP and as an entry', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'clinic', scope: 'system/*.cruds' });
  const admin = await bearer('system/*.cruds');
  for (const p of [patient('p1', 'Haddad'), patient('p2', 'Haddad')]) t.equal((await fhir(app, 'PUT', `/fhir/Patient/${p.id}`, p, admin)).status, 201);
  const reader = await bearer('system/Patient.rs');
  const merge = { resourceType: 'Parameters', parameter: [{ name: 'source-patient', valueReference: { reference: 'Patient/p2' } }, { name: 'target-patient', valueReference: { reference: 'Patient/p1' } }] };
  const viaHttp = await fhir(app, 'POST', '/fhir/Patient/$merge', merge, reader);
  t.equal(viaHttp.status, 403, '$merge needs update on Patient');
  const viaEntry = await fhir(app, 'POST', '/fhir', batch([{ request: { method: 'POST', url: 'Patient/$merge' }, resource: merge }]), reader);
  t.match(viaEntry.body.entry[0].response.status, /^403/);
  t.notOk((await fhir(app, 'GET', '/fhir/Patient/p2', undefined, admin)).body.link, 'nothing was merged');
  // what the token allows still works, through both doors
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p1/$everything', undefined, reader)).status, 200);
  const entry = await fhir(app, 'POST', '/fhir', batch([{ request: { method: 'GET', url: 'Patient/p1/$everything' } }]), reader);
  t.match(entry.body.entry[0].response.status, /^200/);
  t.equal((await fhir(app, 'DELETE', '/fhir/Patient/p1', undefined, reader)).status, 403);
});
