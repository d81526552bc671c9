// $validate, validation on write (422, nothing stored; per-type modes; mandatory profiles;
// transactions all or nothing), StructureDefinitions POSTed to the server used as profiles, and
// the `migfhir validate` command line.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fhir, testApp } from '../helpers/app.ts';
import { validateCommand } from '../../src/cli/validate.ts';

const examples = dirname(createRequire(import.meta.url).resolve('hl7.fhir.r4.examples/package.json'));
const VITALS = 'http://hl7.org/fhir/StructureDefinition/vitalsigns';
const bad = { resourceType: 'Patient', gender: 'M', birthDate: '1990-02-30', name: [{ family: 'Haddad', middle: 'x' }] };
const errorsAt = (oo: any) => oo.issue.filter((i: any) => i.severity === 'error').map((i: any) => i.expression?.[0]).sort();

t.test('$validate', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  let r = await fhir(app, 'POST', '/fhir/Patient/$validate', bad);
  t.equal(r.status, 200, 'invalid resources still get 200');
  t.equal(r.body.resourceType, 'OperationOutcome');
  t.same(errorsAt(r.body), ['Patient.birthDate', 'Patient.gender', 'Patient.name[0].middle']);
  r = await fhir(app, 'POST', '/fhir/Patient/$validate', { resourceType: 'Patient', gender: 'male', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">x</div>' } });
  t.equal(r.status, 200);
  t.same(r.body.issue.map((i: any) => i.severity), ['information'], 'a valid resource: one information issue');
  // Parameters with a profile
  r = await fhir(app, 'POST', '/fhir/Observation/$validate', {
    resourceType: 'Parameters',
    parameter: [{ name: 'resource', resource: { resourceType: 'Observation', status: 'final', code: { text: 'pulse' } } }, { name: 'profile', valueUri: VITALS }],
  });
  t.equal(r.status, 200);
  t.ok(r.body.issue.some((i: any) => i.severity === 'error' && /category: minimum required/.test(i.diagnostics)), 'checked against the requested profile');
  r = await fhir(app, 'POST', `/fhir/Observation/$validate?profile=${encodeURIComponent('https://nowhere.example/sd')}`, { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
  t.equal(r.status, 404, 'an unknown profile is 404');
  r = await fhir(app, 'POST', '/fhir/Patient/$validate', { resourceType: 'Observation', status: 'final', code: { text: 'x' } });
  t.equal(r.status, 400, 'a resource of another type is 400');
  r = await fhir(app, 'POST', '/fhir/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'explode' }, { name: 'resource', resource: { resourceType: 'Patient' } }] });
  t.equal(r.status, 400, 'an unknown mode is 400');
  r = await fhir(app, 'POST', '/fhir/Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'surprise', valueString: 'x' }] });
  t.equal(r.status, 400, 'an unknown parameter is 400');
  // instance level: update mode checks the id; no body validates the stored version
  await fhir(app, 'PUT', '/fhir/Patient/p1', { resourceType: 'Patient', id: 'p1', gender: 'female' });
  r = await fhir(app, 'POST', '/fhir/Patient/p1/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'update' }, { name: 'resource', resource: { resourceType: 'Patient', id: 'p2' } }] });
  t.same(errorsAt(r.body), ['Patient.id'], 'update mode: the id must match the URL');
  r = await fhir(app, 'GET', '/fhir/Patient/p1/$validate');
  t.equal(r.status, 200);
  t.same(errorsAt(r.body), [], 'the stored version is valid');
  r = await fhir(app, 'POST', '/fhir/Patient/p1/$validate?mode=delete');
  t.equal(r.body.issue[0].severity, 'information');
  r = await fhir(app, 'GET', '/fhir/Patient/nope/$validate');
  t.equal(r.status, 404);
  const cs = await fhir(app, 'GET', '/fhir/metadata');
  t.ok(cs.body.rest[0].resource.find((x: any) => x.type === 'Patient').operation.some((o: any) => o.name === 'validate'), '$validate is in the CapabilityStatement');
});

t.test('validation on write', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  let r = await fhir(app, 'POST', '/fhir/Patient', bad);
  t.equal(r.status, 422, 'an invalid create is 422');
  t.same(errorsAt(r.body), ['Patient.birthDate', 'Patient.gender', 'Patient.name[0].middle']);
  r = await fhir(app, 'GET', '/fhir/Patient?_summary=count');
  t.equal(r.body.total, 0, 'nothing stored');
  // declared profiles are enforced
  const obs = { resourceType: 'Observation', meta: { profile: [VITALS] }, status: 'final', code: { text: 'pulse' } };
  r = await fhir(app, 'POST', '/fhir/Observation', obs);
  t.equal(r.status, 422, 'a declared profile is enforced');
  // PUT and PATCH too
  r = await fhir(app, 'PUT', '/fhir/Patient/w1', { resourceType: 'Patient', id: 'w1', gender: 'female' });
  t.equal(r.status, 201);
  r = await fhir(app, 'PUT', '/fhir/Patient/w1', { resourceType: 'Patient', id: 'w1', gender: 'woman' });
  t.equal(r.status, 422);
  r = await fhir(app, 'PATCH', '/fhir/Patient/w1', [{ op: 'replace', path: '/gender', value: 'woman' }], { 'content-type': 'application/json-patch+json' });
  t.equal(r.status, 422, 'a patch producing an invalid resource is 422');
  r = await fhir(app, 'GET', '/fhir/Patient/w1');
  t.equal(r.body.gender, 'female', 'the stored version is untouched');
  t.equal(r.body.meta.versionId, '1');
  // a transaction with one invalid entry stores nothing
  r = await fhir(app, 'POST', '/fhir', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:11111111-1111-4111-8111-111111111111', resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Observation', status: 'maybe', code: { text: 'x' }, subject: { reference: 'urn:uuid:11111111-1111-4111-8111-111111111111' } }, request: { method: 'POST', url: 'Observation' } },
    ],
  });
  t.equal(r.status, 422, 'the transaction fails');
  r = await fhir(app, 'GET', '/fhir/Patient?gender=male&_summary=count');
  t.equal(r.body.total, 0, 'no entry of the failed transaction is stored');
});

t.test('validation modes per type and mandatory profiles', async (t) => {
  const app = await testApp({ validation: { default: 'profiles', types: { Patient: 'off', Observation: 'base' } }, mandatoryProfiles: { Encounter: ['http://hl7.org/fhir/StructureDefinition/vitalsigns'] } });
  t.teardown(() => app.close());
  let r = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'M' });
  t.equal(r.status, 201, 'Patient=off stores what passes the basic checks');
  r = await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', meta: { profile: [VITALS] }, status: 'final', code: { text: 'x' } });
  t.equal(r.status, 201, 'Observation=base ignores declared profiles');
  r = await fhir(app, 'POST', '/fhir/Observation', { resourceType: 'Observation', status: 'maybe', code: { text: 'x' } });
  t.equal(r.status, 422, 'but checks the R4 rules');
  r = await fhir(app, 'POST', '/fhir/Encounter', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' } });
  t.equal(r.status, 422, 'a mandatory profile of another type refuses the write');
});

t.test('a StructureDefinition stored on the server is a profile at once', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const sd = JSON.parse(readFileSync(join(examples, 'StructureDefinition-vitalsigns.json'), 'utf8'));
  sd.id = 'camp-vitals';
  sd.url = 'https://camp.example/fhir/StructureDefinition/camp-vitals';
  // our profile also requires a performer
  sd.snapshot.element.find((e: any) => e.id === 'Observation.performer').min = 1;
  delete sd.text;
  let r = await fhir(app, 'PUT', '/fhir/StructureDefinition/camp-vitals', sd);
  t.ok(r.status === 201 || r.status === 200, `stored (${r.status})`);
  const obs = JSON.parse(readFileSync(join(examples, 'Observation-heart-rate.json'), 'utf8'));
  r = await fhir(app, 'POST', `/fhir/Observation/$validate?profile=${encodeURIComponent(sd.url)}`, obs);
  t.ok(r.body.issue.some((i: any) => i.severity === 'error' && /performer: minimum required = 1/.test(i.diagnostics)), 'the stored profile is applied');
  r = await fhir(app, 'DELETE', '/fhir/StructureDefinition/camp-vitals');
  r = await fhir(app, 'POST', `/fhir/Observation/$validate?profile=${encodeURIComponent(sd.url)}`, obs);
  t.equal(r.status, 404, 'a deleted profile is gone');
});

t.test('migfhir validate', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-validate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'bad.json'), JSON.stringify(bad));
  writeFileSync(join(dir, 'good.json'), readFileSync(join(examples, 'Patient-example.json')));
  writeFileSync(join(dir, 'list.ndjson'), `${JSON.stringify({ resourceType: 'Patient', gender: 'male' })}\n${JSON.stringify({ resourceType: 'Patient', gender: 'X' })}\nnot json\n`);
  const capture = () => {
    let text = '';
    return { write: (s: string) => ((text += s), true), get text() { return text; }, isTTY: false } as any;
  };
  let out = capture();
  let err = capture();
  t.equal(await validateCommand([join(dir, 'good.json')], out, err), 0, 'a valid file: exit 0');
  out = capture();
  err = capture();
  t.equal(await validateCommand([dir], out, err), 1, 'errors: exit 1');
  t.match(out.text, `${join(dir, 'bad.json')}:Patient.gender: error:`, 'compiler-style lines');
  t.match(out.text, `${join(dir, 'list.ndjson')}:2:Patient.gender: error:`, 'NDJSON lines are numbered');
  t.match(out.text, `${join(dir, 'list.ndjson')}:3:: fatal: not JSON`);
  t.match(err.text, /5 resources, \d+ errors/);
  out = capture();
  t.equal(await validateCommand([join(dir, 'bad.json'), '--format', 'json'], out, capture()), 1);
  const report = JSON.parse(out.text);
  t.same(report[0].issues.filter((i: any) => i.severity === 'error').map((i: any) => i.expression[0]).sort(), ['Patient.birthDate', 'Patient.gender', 'Patient.name[0].middle']);
  out = capture();
  t.equal(await validateCommand([join(examples, 'Observation-heart-rate.json'), '--profile', 'http://hl7.org/fhir/StructureDefinition/heartrate'], out, capture()), 0, 'an R4 profile');
  t.equal(await validateCommand([join(dir, 'good.json'), '--profile', 'https://nowhere.example/x'], capture(), capture()), 2, 'unknown profile: usage error');
  t.equal(await validateCommand(['--bogus'], capture(), capture()), 2);
});
