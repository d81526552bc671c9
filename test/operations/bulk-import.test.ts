// Bulk Data $import: NDJSON fetched from a trusted loopback URL, every line through the REST
// write pipeline with its AuditEvent, failing lines reported with their line numbers and
// nothing left of them, a resume token that continues a failed import, and the round trip:
// export a store, import into an empty one (the other engine), the same answers to searches.
import t, { type Test } from 'tap';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';
import { fhir } from '../helpers/app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { kickOff, pathOf, poll, runExport, bulkApp } from '../helpers/bulk-client.ts';

/** A loopback file server: path → body (or a status to answer), counting requests. */
async function fileServer(t: Test): Promise<{ base: string; files: Map<string, string | number>; hits: Map<string, number> }> {
  const files = new Map<string, string | number>();
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    hits.set(req.url!, (hits.get(req.url!) ?? 0) + 1);
    const body = files.get(req.url!);
    if (body === undefined) return res.writeHead(404).end();
    if (typeof body === 'number') {
      if (body === 302) return res.writeHead(302, { location: 'http://127.0.0.1:1/elsewhere' }).end();
      return res.writeHead(body).end();
    }
    res.writeHead(200, { 'content-type': 'application/fhir+ndjson' }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, files, hits };
}

const manifest = (...inputs: { type?: string; url: string }[]) => ({
  resourceType: 'Parameters',
  parameter: [
    { name: 'inputFormat', valueCode: 'application/fhir+ndjson' },
    { name: 'inputSource', valueUri: 'http://example.org/source' },
    ...inputs.map((i) => ({ name: 'input', part: [...(i.type ? [{ name: 'type', valueCode: i.type }] : []), { name: 'url', valueUri: i.url }] })),
  ],
});

const ndjson = (...lines: unknown[]) => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';

t.test('$import: trusted URLs, the write pipeline per line, errors by line, audit', async (t) => {
  const files = await fileServer(t);
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }), { importTrustedUrls: [`${files.base}/trusted/`], audit: 'on' });
  files.files.set('/trusted/patients.ndjson', ndjson(
    { resourceType: 'Patient', id: 'p1', name: [{ family: 'Haddad' }], meta: { versionId: '7', lastUpdated: '2020-01-01T00:00:00Z' } },
    '{ not json',
    { resourceType: 'Patient', id: 'p2', gender: 'banana' },
    { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } },
    { resourceType: 'Patient', id: 'p3', name: [{ family: 'Nowak' }] },
  ));
  files.files.set('/trusted/obs.ndjson', ndjson({ resourceType: 'Observation', id: 'o2', status: 'final', code: { text: 'weight' }, subject: { reference: 'Patient/p1' } }));

  const untrusted = await kickOff(app, 'POST', '/fhir/$import', {}, manifest({ url: `${files.base}/elsewhere/x.ndjson` }));
  t.equal(untrusted.statusCode, 403, 'an input outside the trusted URLs is refused');
  t.equal((await kickOff(app, 'POST', '/fhir/$import', {}, manifest({ url: 'file:///etc/passwd' }))).statusCode, 403, 'no file: URLs');
  t.equal((await app.inject({ method: 'POST', url: '/fhir/$import', headers: { 'content-type': 'application/fhir+json' }, payload: JSON.stringify(manifest({ url: `${files.base}/trusted/patients.ndjson` })) })).statusCode, 400, 'Prefer: respond-async is required');

  const kick = await kickOff(app, 'POST', '/fhir/$import', {}, manifest({ type: 'Patient', url: `${files.base}/trusted/patients.ndjson` }, { type: 'Observation', url: `${files.base}/trusted/obs.ndjson` }));
  t.equal(kick.statusCode, 202);
  const { res } = await poll(app, kick.headers['content-location'] as string);
  t.equal(res.statusCode, 200, 'completed', { body: res.body });
  const done = JSON.parse(res.body);
  t.same(done.output.map((o: any) => [o.type, o.count]), [['Patient', 2], ['Observation', 1]], 'counts per input');
  t.equal(done.error.length, 1, 'one error file');
  const errors = (await app.inject({ method: 'GET', url: pathOf(done.error[0].url) })).body.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  t.same(errors.map((e: any) => /line (\d+)/.exec(e.issue[0].diagnostics)?.[1]), ['2', '3', '4'], 'each failing line by its number');
  t.match(errors[2].issue[0].diagnostics, /Observation in an input of Patient/);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p2')).status, 404, 'nothing is left of a failing line');
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o1')).status, 404);
  const p1 = await fhir(app, 'GET', '/fhir/Patient/p1');
  t.equal(p1.body.meta.versionId, '1', 'versions are this server\'s own');
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o2')).body.subject.reference, 'Patient/p1', 'ids kept, so references hold');

  await app.fhir.audit!.flush();
  const events = (await fhir(app, 'GET', '/fhir/AuditEvent?_count=1000')).body.entry.map((e: any) => e.resource);
  const creates = events.filter((e: any) => e.subtype[0].code === 'create').map((e: any) => e.entity[0].what.reference).sort();
  t.same(creates, ['Observation/o2', 'Patient/p1', 'Patient/p3'], 'one AuditEvent per imported resource');
  t.ok(events.find((e: any) => e.subtype[0].code === 'create' && e.entity[0].what.reference === 'Observation/o2').entity.some((x: any) => x.what.reference === 'Patient/p1'), 'naming its patient');
});

t.test('$import: a failed import resumes from its last committed line', async (t) => {
  const files = await fileServer(t);
  const app = await bulkApp(t, new SqliteStore({ path: ':memory:' }), { importTrustedUrls: [`${files.base}/trusted/`] });
  files.files.set('/trusted/a.ndjson', ndjson({ resourceType: 'Patient', id: 'a1' }, { resourceType: 'Patient', id: 'a2' }));
  files.files.set('/trusted/b.ndjson', 302);
  const kick = await kickOff(app, 'POST', '/fhir/$import', {}, manifest({ url: `${files.base}/trusted/a.ndjson` }, { url: `${files.base}/trusted/b.ndjson` }));
  const failed = await poll(app, kick.headers['content-location'] as string);
  t.equal(failed.res.statusCode, 500, 'a redirect is not followed: the input fails');
  const job = (kick.headers['content-location'] as string).split('/').pop()!;
  t.match(JSON.parse(failed.res.body).issue[0].diagnostics, `resume=${job}`, 'the status names the resume token');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/a2')).status, 200, 'the first input was imported');

  files.files.set('/trusted/b.ndjson', ndjson({ resourceType: 'Patient', id: 'b1' }));
  const resumed = await kickOff(app, 'POST', '/fhir/$import', {}, { resourceType: 'Parameters', parameter: [{ name: 'resume', valueString: job }] });
  t.equal(resumed.statusCode, 202);
  const { res } = await poll(app, resumed.headers['content-location'] as string);
  t.equal(res.statusCode, 200);
  t.same(JSON.parse(res.body).output.map((o: any) => o.count), [2, 1]);
  t.equal(files.hits.get('/trusted/a.ndjson'), 1, 'the finished input is not read again');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/b1')).status, 200);
  t.equal((await kickOff(app, 'POST', '/fhir/$import', {}, { resourceType: 'Parameters', parameter: [{ name: 'resume', valueString: job }] })).statusCode, 400, 'a completed import cannot be resumed');
});

t.test('round trip: export a store, import into an empty one (the other engine), same answers', async (t) => {
  const files = await fileServer(t);
  const a = await bulkApp(t, new SqliteStore({ path: ':memory:' }));
  const b = await bulkApp(t, new MingoSearchStore(), { importTrustedUrls: [`${files.base}/`] });
  const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
  for (let i = 0; i < 30; i++) {
    await fhir(a, 'PUT', `/fhir/Patient/p${i}`, {
      resourceType: 'Patient', id: `p${i}`, name: [{ family: ['Haddad', 'Okafor', 'Nowak'][i % 3], given: [`G${i}`] }], gender: i % 2 ? 'female' : 'male', birthDate: `19${50 + i}-01-0${1 + (i % 9)}`,
      ...(i % 5 === 0 ? { extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'asylum-applicant' }] } }] }] } : {}),
    });
    await fhir(a, 'PUT', `/fhir/Observation/o${i}`, { resourceType: 'Observation', id: `o${i}`, status: 'final', code: { coding: [{ system: 'http://loinc.org', code: i % 2 ? '8867-4' : '29463-7' }] }, subject: { reference: `Patient/p${i}` }, valueQuantity: { value: 50 + i, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' } });
  }
  await fhir(a, 'PUT', '/fhir/Group/g', { resourceType: 'Group', id: 'g', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }] });
  const run = await runExport(a, 'GET', '/fhir/$export?_type=Patient,Observation,Group');
  // the export's files, served as they were downloaded
  const inputs = run.manifest.output.map((f, i) => {
    files.files.set(`/export/${i}.ndjson`, run.files.get(f.url)!.map((r) => JSON.stringify(r)).join('\n'));
    return { type: f.type, url: `${files.base}/export/${i}.ndjson` };
  });
  const kick = await kickOff(b, 'POST', '/fhir/$import', {}, manifest(...inputs));
  const { res } = await poll(b, kick.headers['content-location'] as string);
  t.equal(res.statusCode, 200);
  t.same(JSON.parse(res.body).error, [], 'no line failed');
  const searches = [
    'Patient?family=haddad', 'Patient?gender=female&birthdate=ge1965', 'Observation?code=http://loinc.org|8867-4', 'Observation?value-quantity=gt70||kg',
    'Observation?subject.family=okafor', 'Patient?_has:Observation:subject:code=29463-7', 'Group?member=Patient/p1', 'Patient?_id=p5,p10', 'Observation?patient=p3',
  ];
  for (const s of searches) {
    const ids = async (app: FastifyInstance) => ((await fhir(app, 'GET', `/fhir/${s}${s.includes('?') ? '&' : '?'}_count=100`)).body.entry ?? []).map((e: any) => e.resource.id).sort();
    const [x, y] = [await ids(a), await ids(b)];
    t.ok(x.length > 0, `${s}: finds something`);
    t.same(y, x, `${s}: the same answer after the round trip`);
  }
  const p5 = (await fhir(b, 'GET', '/fhir/Patient/p5')).body;
  t.ok(p5.meta.security?.some((s: any) => s.code === 'migration'), 'migration data is labelled again on import');
});
