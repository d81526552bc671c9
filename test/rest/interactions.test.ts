// The core interactions of FHIR R4 http.html, through fastify.inject.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

const P = (extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', name: [{ family: 'Nguyễn', given: ['Lan'] }], ...extra });

t.test('create: server id, Location, ETag, Last-Modified, client id and meta ignored', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await fhir(app, 'POST', '/fhir/Patient', P({ id: 'client-chosen', meta: { versionId: '9', lastUpdated: '2001-01-01T00:00:00Z', tag: [{ code: 'x' }] } }));
  t.equal(res.status, 201);
  t.not(res.body.id, 'client-chosen');
  t.equal(res.headers.location, `http://test.local/fhir/Patient/${res.body.id}/_history/1`);
  t.equal(res.headers.etag, 'W/"1"');
  t.equal(new Date(String(res.headers['last-modified'])).toUTCString(), res.headers['last-modified']);
  t.equal(res.body.meta.versionId, '1');
  t.not(res.body.meta.lastUpdated, '2001-01-01T00:00:00Z');
  t.same(res.body.meta.tag, [{ code: 'x' }], 'other meta is kept');
  t.match(String(res.headers['content-type']), /^application\/fhir\+json/);
});

t.test('update: create with the client id, no-op updates, If-Match', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const c = await fhir(app, 'PUT', '/fhir/Patient/p1', P({ id: 'p1' }));
  t.equal(c.status, 201);
  t.equal(c.headers.location, 'http://test.local/fhir/Patient/p1/_history/1');
  const same = await fhir(app, 'PUT', '/fhir/Patient/p1', P({ id: 'p1' }));
  t.equal(same.status, 200);
  t.equal(same.headers.etag, 'W/"1"', 'unchanged content writes no version');
  const u = await fhir(app, 'PUT', '/fhir/Patient/p1', P({ id: 'p1', gender: 'female' }), { 'if-match': 'W/"1"' });
  t.equal(u.status, 200);
  t.equal(u.headers.etag, 'W/"2"');
  const stale = await fhir(app, 'PUT', '/fhir/Patient/p1', P({ id: 'p1', gender: 'male' }), { 'if-match': 'W/"1"' });
  t.equal(stale.status, 412);
  t.equal(stale.body.resourceType, 'OperationOutcome');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p1')).body.gender, 'female', 'the stale write changed nothing');
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', P({ id: 'p1' }), { 'if-match': 'garbage' })).status, 400);
});

t.test('no lost update under concurrent writers', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/race', P({ id: 'race' }));
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => fhir(app, 'PUT', '/fhir/Patient/race', P({ id: 'race', birthDate: `19${50 + i}` }), { 'if-match': 'W/"1"' })),
  );
  t.equal(results.filter((r) => r.status === 200).length, 1, 'exactly one writer wins');
  t.equal(results.filter((r) => r.status === 412).length, 19);
  const hist = await fhir(app, 'GET', '/fhir/Patient/race/_history');
  t.equal(hist.body.total, 2);
});

t.test('conditional read: If-None-Match and If-Modified-Since', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const c = await fhir(app, 'PUT', '/fhir/Patient/p', P({ id: 'p' }));
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { 'if-none-match': 'W/"1"' })).status, 304);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { 'if-none-match': 'W/"2"' })).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { 'if-modified-since': String(c.headers['last-modified']) })).status, 304);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).status, 200);
});

t.test('Prefer return', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const min = await fhir(app, 'POST', '/fhir/Patient', P(), { prefer: 'return=minimal' });
  t.equal(min.status, 201);
  t.equal(min.raw, '');
  t.ok(min.headers.location);
  const oo = await fhir(app, 'PUT', '/fhir/Patient/x', P({ id: 'x' }), { prefer: 'return=OperationOutcome' });
  t.equal(oo.body.resourceType, 'OperationOutcome');
  t.equal(oo.body.issue[0].severity, 'information');
  const rep = await fhir(app, 'PUT', '/fhir/Patient/x', P({ id: 'x', active: true }), { prefer: 'return=representation' });
  t.equal(rep.body.active, true);
});

t.test('formats: _format, Accept, _pretty', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p', P({ id: 'p' }));
  for (const f of ['json', 'application/json', 'application/fhir+json', 'application/json+fhir', 'xml', 'application/fhir+xml']) {
    t.equal((await fhir(app, 'GET', `/fhir/Patient/p?_format=${encodeURIComponent(f)}`)).status, 200, f);
  }
  // XML answers: test/http/xml.test.ts
  for (const f of ['ttl', 'html']) {
    const r = await fhir(app, 'GET', `/fhir/Patient/p?_format=${encodeURIComponent(f)}`);
    t.equal(r.status, 406, f);
    t.equal(r.body.resourceType, 'OperationOutcome');
  }
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { accept: 'text/turtle' })).status, 406);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p', undefined, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' })).status, 200);
  const pretty = await fhir(app, 'GET', '/fhir/Patient/p?_pretty=true');
  t.match(pretty.raw, /\n  "id": "p"/);
});

t.test('_summary and _elements on read', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Observation/o', { resourceType: 'Observation', id: 'o', status: 'final', code: { text: 'x' }, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' }, note: [{ text: 'n' }], valueQuantity: { value: 1 } });
  const tagged = (r: any) => r.meta.tag?.some((x: any) => x.code === 'SUBSETTED');
  const sum = (await fhir(app, 'GET', '/fhir/Observation/o?_summary=true')).body;
  t.notOk(sum.note, 'note is not a summary element');
  t.notOk(sum.text);
  t.equal(sum.status, 'final');
  t.ok(tagged(sum));
  const text = (await fhir(app, 'GET', '/fhir/Observation/o?_summary=text')).body;
  t.same(Object.keys(text).sort(), ['code', 'id', 'meta', 'resourceType', 'status', 'text']);
  const data = (await fhir(app, 'GET', '/fhir/Observation/o?_summary=data')).body;
  t.notOk(data.text);
  t.ok(data.note);
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o?_summary=count')).status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/Observation/o?_summary=bogus')).status, 400);
  const el = (await fhir(app, 'GET', '/fhir/Observation/o?_elements=value')).body;
  t.ok(el.valueQuantity, 'choice elements by their base name');
  t.ok(el.status && el.code, 'mandatory elements are kept');
  t.notOk(el.note);
  t.ok(tagged(el));
  t.notOk(tagged((await fhir(app, 'GET', '/fhir/Observation/o?_summary=false')).body));
});

t.test('delete is logical: 410 with the version, history kept', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/d', P({ id: 'd' }));
  const del = await fhir(app, 'DELETE', '/fhir/Patient/d');
  t.equal(del.status, 200);
  t.equal(del.headers.etag, 'W/"2"');
  const gone = await fhir(app, 'GET', '/fhir/Patient/d');
  t.equal(gone.status, 410);
  t.equal(gone.body.issue[0].code, 'deleted');
  t.equal(gone.headers.etag, 'W/"2"');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/d/_history/1')).status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/d/_history/2')).status, 410);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/d/_history/3')).status, 404);
  const hist = (await fhir(app, 'GET', '/fhir/Patient/d/_history')).body;
  t.same(hist.entry.map((e: any) => e.request.method), ['DELETE', 'POST']);
  t.notOk(hist.entry[0].resource);
  t.equal((await fhir(app, 'DELETE', '/fhir/Patient/never')).status, 200, 'deleting nothing succeeds');
  t.equal((await fhir(app, 'DELETE', '/fhir/Patient/d', undefined, { prefer: 'return=minimal' })).status, 204);
  const again = await fhir(app, 'PUT', '/fhir/Patient/d', P({ id: 'd' }));
  t.equal(again.status, 201, 'a deleted resource can be created again');
  t.equal(again.headers.etag, 'W/"3"');
});

t.test('history: type and system level, _since, _at, paging without gaps', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  let last: any;
  for (let i = 0; i < 7; i++) last = await fhir(app, 'PUT', `/fhir/Patient/h${i}`, P({ id: `h${i}` }));
  // just after the last of these writes, by the store's own clock
  const mid = new Date(Date.parse(last.body.meta.lastUpdated) + 1).toISOString();
  await fhir(app, 'PUT', '/fhir/Patient/h0', P({ id: 'h0', active: true }));
  await fhir(app, 'PUT', '/fhir/Observation/o1', { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'x' } });
  const sinceRes = await fhir(app, 'GET', `/fhir/Patient/_history?_since=${encodeURIComponent(mid)}`);
  t.same(sinceRes.body.entry.map((e: any) => `${e.resource.id}@${e.resource.meta.versionId}`), ['h0@2']);
  const at = await fhir(app, 'GET', `/fhir/Patient/h0/_history?_at=${encodeURIComponent(last.body.meta.lastUpdated)}`);
  t.same(at.body.entry.map((e: any) => e.resource.meta.versionId), ['1'], 'the version current at that time');
  t.equal((await fhir(app, 'GET', '/fhir/_history')).body.total, 9);
  const seen: string[] = [];
  let url: string | undefined = '/fhir/_history?_count=2';
  let first = true;
  while (url) {
    const page: any = (await fhir(app, 'GET', url)).body;
    seen.push(...page.entry.map((e: any) => `${e.resource.resourceType}/${e.resource.id}@${e.resource.meta.versionId}`));
    if (first) {
      // a write between pages must not shift the pages already cut
      await fhir(app, 'PUT', '/fhir/Patient/late', P({ id: 'late' }));
      first = false;
    }
    url = page.link.find((l: any) => l.relation === 'next')?.url.replace('http://test.local', '');
  }
  t.equal(seen.length, 9, 'every version once');
  t.equal(new Set(seen).size, 9);
  t.equal(seen[0], 'Observation/o1@1', 'newest first');
  t.equal((await fhir(app, 'GET', '/fhir/_history?_since=yesterday')).status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/_history?_bogus=1')).status, 400);
});

t.test('errors are OperationOutcomes with the right status', async (t) => {
  const app = await testApp({ maxBodyBytes: 2048 });
  t.teardown(() => app.close());
  const cases: [string, string, unknown, Record<string, string>, number, string][] = [
    ['POST', '/fhir/Patient', '{"resourceType":', {}, 400, 'structure'],
    ['POST', '/fhir/Patient', { resourceType: 'Observation' }, {}, 400, 'invalid'],
    ['PUT', '/fhir/Patient/a', { resourceType: 'Patient', id: 'b' }, {}, 400, 'invalid'],
    ['PUT', '/fhir/Patient/a', { resourceType: 'Patient' }, {}, 400, 'required'],
    ['GET', '/fhir/Nope/1', undefined, {}, 404, 'not-found'],
    ['GET', '/fhir/Patient/nope', undefined, {}, 404, 'not-found'],
    ['POST', '/fhir/Patient', { resourceType: 'Patient', text: { status: 'generated', div: 'x'.repeat(5000) } }, {}, 413, 'too-long'],
    ['POST', '/fhir/Patient', 'resourceType=Patient', { 'content-type': 'text/plain' }, 415, 'not-supported'],
    ['GET', '/fhir/Patient/bad$id', undefined, {}, 400, 'value'],
    ['GET', '/nowhere', undefined, {}, 404, 'not-found'],
  ];
  for (const [method, url, body, headers, status, code] of cases) {
    const r = await fhir(app, method as never, url, body, headers);
    t.equal(r.status, status, `${method} ${url} → ${status}`);
    t.equal(r.body?.resourceType, 'OperationOutcome');
    t.equal(r.body?.issue?.[0]?.code, code);
    t.match(String(r.headers['content-type']), /application\/fhir\+json/);
  }
});
