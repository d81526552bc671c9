import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';

const tx = (entry: unknown[], type = 'transaction') => ({ resourceType: 'Bundle', type, entry });
const patient = (family: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', name: [{ family }], ...extra });

t.test('transaction: urn:uuid references are rewritten everywhere and everything commits', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const pid = 'urn:uuid:0b8e6a1e-2c3f-4b8a-9d0e-111111111111';
  const eid = 'urn:uuid:0b8e6a1e-2c3f-4b8a-9d0e-222222222222';
  const res = await fhir(app, 'POST', '/fhir', tx([
    {
      fullUrl: pid,
      resource: patient('Haddad', {
        text: { status: 'generated', div: `<div xmlns="http://www.w3.org/1999/xhtml"><a href="${eid}">visit</a></div>` },
        // dom-3: a contained resource must be referred to from its container
        extension: [{ url: 'http://example.org/provenance', valueReference: { reference: '#p' } }],
        contained: [{ resourceType: 'Provenance', id: 'p', recorded: '2024-01-01T00:00:00Z', agent: [{ who: { reference: pid } }], target: [{ reference: eid }] }],
      }),
      request: { method: 'POST', url: 'Patient' },
    },
    {
      fullUrl: eid,
      resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: pid }, extension: [{ url: 'http://example.org/x', valueReference: { reference: pid } }] },
      request: { method: 'POST', url: 'Encounter' },
    },
  ]));
  t.equal(res.status, 200);
  t.equal(res.body.type, 'transaction-response');
  t.same(res.body.entry.map((e: any) => e.response.status), ['201 Created', '201 Created']);
  const [pLoc, eLoc] = res.body.entry.map((e: any) => e.response.location.replace('http://test.local/fhir/', '').replace(/\/_history\/1$/, ''));
  t.match(pLoc, /^Patient\/[0-9a-f-]{36}$/);
  const enc = (await fhir(app, 'GET', `/fhir/${eLoc}`)).body;
  t.equal(enc.subject.reference, pLoc);
  t.equal(enc.extension[0].valueReference.reference, pLoc);
  const pat = (await fhir(app, 'GET', `/fhir/${pLoc}`)).body;
  t.match(pat.text.div, `href="${eLoc}"`);
  t.equal(pat.contained[0].agent[0].who.reference, pLoc);
  t.equal(pat.contained[0].target[0].reference, eLoc);
});

t.test('transaction: any failing entry rolls back every entry and names the entry', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/keep', patient('Keep', { id: 'keep' }));
  const res = await fhir(app, 'POST', '/fhir', tx([
    { resource: patient('A'), request: { method: 'POST', url: 'Patient' } },
    { request: { method: 'DELETE', url: 'Patient/keep' } },
    { resource: { resourceType: 'Patient', id: 'bad', active: 'yes' }, request: { method: 'PUT', url: 'Patient/bad' } },
  ]));
  t.equal(res.status, 400);
  t.equal(res.body.resourceType, 'OperationOutcome');
  t.match(res.body.issue[0].diagnostics, /Bundle\.entry\[2\]/);
  t.equal(res.body.issue[0].expression[0], 'Bundle.entry[2]');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/keep')).status, 200, 'the DELETE was rolled back');
  const all = await fhir(app, 'GET', '/fhir/Patient?_summary=count');
  t.equal(all.body.total, 1, 'the POST was rolled back');
});

t.test('transaction: processing order DELETE, POST, PUT, GET, and GET sees the writes', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/old', patient('Old', { id: 'old' }));
  const res = await fhir(app, 'POST', '/fhir', tx([
    { request: { method: 'GET', url: 'Patient?family=New' } },
    { resource: patient('New', { id: 'n1' }), request: { method: 'PUT', url: 'Patient/n1' } },
    { resource: patient('New'), request: { method: 'POST', url: 'Patient' } },
    { request: { method: 'DELETE', url: 'Patient/old' } },
  ]));
  t.equal(res.status, 200);
  t.same(res.body.entry.map((e: any) => e.response.status), ['200 OK', '201 Created', '201 Created', '200 OK']);
  t.equal(res.body.entry[0].resource.resourceType, 'Bundle');
  t.equal(res.body.entry[0].resource.total, 2, 'the GET ran last and saw both new patients');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/old')).status, 410);
});

t.test('transaction: two entries resolving to the same resource → 400', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await fhir(app, 'POST', '/fhir', tx([
    { resource: patient('A', { id: 'x' }), request: { method: 'PUT', url: 'Patient/x' } },
    { request: { method: 'DELETE', url: 'Patient/x' } },
  ]));
  t.equal(res.status, 400);
  t.equal(res.body.issue[0].code, 'duplicate');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/x')).status, 404);
});

t.test('transaction: conditional references and conditional create', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p1', patient('P', { id: 'p1', identifier: [{ system: 'http://hl7.it/sid/stp', value: 'STP1' }] }));
  await fhir(app, 'PUT', '/fhir/Patient/d1', patient('D', { id: 'd1', identifier: [{ system: 'urn:dup', value: '1' }] }));
  await fhir(app, 'PUT', '/fhir/Patient/d2', patient('D', { id: 'd2', identifier: [{ system: 'urn:dup', value: '1' }] }));
  const obs = (ref: string) => ({ resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: ref } });

  const one = await fhir(app, 'POST', '/fhir', tx([{ resource: obs('Patient?identifier=http://hl7.it/sid/stp|STP1'), request: { method: 'POST', url: 'Observation' } }]));
  t.equal(one.status, 200);
  const loc = one.body.entry[0].response.location.replace('http://test.local/fhir/', '').replace(/\/_history\/1$/, '');
  t.equal((await fhir(app, 'GET', `/fhir/${loc}`)).body.subject.reference, 'Patient/p1');

  const none = await fhir(app, 'POST', '/fhir', tx([{ resource: obs('Patient?identifier=urn:none|0'), request: { method: 'POST', url: 'Observation' } }]));
  t.equal(none.status, 412);
  const many = await fhir(app, 'POST', '/fhir', tx([{ resource: obs('Patient?identifier=urn:dup|1'), request: { method: 'POST', url: 'Observation' } }]));
  t.equal(many.status, 412);

  const cc = await fhir(app, 'POST', '/fhir', tx([
    { fullUrl: 'urn:uuid:aaaaaaaa-0000-0000-0000-000000000001', resource: patient('P', { identifier: [{ system: 'http://hl7.it/sid/stp', value: 'STP1' }] }), request: { method: 'POST', url: 'Patient', ifNoneExist: 'identifier=http://hl7.it/sid/stp|STP1' } },
    { resource: obs('urn:uuid:aaaaaaaa-0000-0000-0000-000000000001'), request: { method: 'POST', url: 'Observation' } },
  ]));
  t.equal(cc.status, 200);
  t.equal(cc.body.entry[0].response.status, '200 OK', 'the existing patient was matched, not duplicated');
  const ccObs = cc.body.entry[1].response.location.replace('http://test.local/fhir/', '').replace(/\/_history\/1$/, '');
  t.equal((await fhir(app, 'GET', `/fhir/${ccObs}`)).body.subject.reference, 'Patient/p1');
});

t.test('batch: entries succeed or fail independently', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const res = await fhir(app, 'POST', '/fhir', tx([
    { resource: patient('A'), request: { method: 'POST', url: 'Patient' } },
    { request: { method: 'GET', url: 'Patient/missing' } },
    { resource: { resourceType: 'Patient', bogus: 1 }, request: { method: 'POST', url: 'Patient' } },
    { request: { method: 'GET', url: 'Patient?family=A' } },
  ], 'batch'));
  t.equal(res.status, 200);
  t.equal(res.body.type, 'batch-response');
  t.same(res.body.entry.map((e: any) => e.response.status.slice(0, 3)), ['201', '404', '400', '200']);
  t.equal(res.body.entry[1].response.outcome.resourceType, 'OperationOutcome');
  t.equal(res.body.entry[3].resource.total, 1);
});

t.test('PATCH entries carry a JSON Patch in a Binary', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p', patient('P', { id: 'p' }));
  const data = Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64');
  const res = await fhir(app, 'POST', '/fhir', tx([{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: 'Patient/p' } }]));
  t.equal(res.status, 200);
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p')).body.active, true);
});

t.test('bad Bundles are refused', async (t) => {
  const app = await testApp({ maxBundleEntries: 5 });
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'POST', '/fhir', { resourceType: 'Patient' })).status, 400);
  t.equal((await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'collection' })).status, 400);
  const big = tx(Array.from({ length: 6 }, () => ({ resource: patient('A'), request: { method: 'POST', url: 'Patient' } })));
  const r = await fhir(app, 'POST', '/fhir', big);
  t.equal(r.status, 413);
  t.equal((await fhir(app, 'POST', '/fhir', tx([{ resource: patient('A') }]))).status, 400, 'entry without request');
  t.equal((await fhir(app, 'POST', '/fhir', tx([{ request: { method: 'GET', url: 'http://elsewhere.org/fhir/Patient/1' } }]))).status, 400);
  t.equal((await fhir(app, 'GET', '/fhir/Patient?_summary=count')).body.total, 0);
});

t.test('a 10,000-entry transaction is stored whole', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const p = 'urn:uuid:bbbbbbbb-0000-0000-0000-000000000000';
  const entry: unknown[] = [{ fullUrl: p, resource: patient('Big'), request: { method: 'POST', url: 'Patient' } }];
  for (let i = 1; i < 10000; i++) {
    entry.push({ resource: { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] }, subject: { reference: p }, valueQuantity: { value: i } }, request: { method: 'POST', url: 'Observation' } });
  }
  const res = await fhir(app, 'POST', '/fhir', tx(entry));
  t.equal(res.status, 200);
  t.equal(res.body.entry.length, 10000);
  t.equal((await fhir(app, 'GET', '/fhir/Observation?_summary=count&code=8867-4')).body.total, 9999);
});
