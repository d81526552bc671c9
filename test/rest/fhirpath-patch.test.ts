// FHIRPath Patch (https://hl7.org/fhir/R4/fhirpatch.html) through PATCH [type]/[id] with a
// Parameters body, and in a transaction Bundle: each operation type on a stored Patient, and
// what a malformed (400) or inapplicable (422) document gets — nothing stored changes then.
import t from 'tap';
import { testApp, fhir } from '../helpers/app.ts';

type Part = { name: string; [k: string]: unknown };
const op = (type: string, path: string, more: Part[] = []) => ({ name: 'operation', part: [{ name: 'type', valueCode: type }, { name: 'path', valueString: path }, ...more] });
const doc = (...ops: ReturnType<typeof op>[]) => ({ resourceType: 'Parameters', parameter: ops });

const PATIENT = {
  resourceType: 'Patient',
  id: 'p',
  identifier: [{ system: 'http://hl7.it/sid/stp', value: 'STP1' }, { system: 'urn:iso:std:iso:3166:-1:SY:passport', value: 'N1' }],
  name: [{ family: 'Haddad', given: ['Amal', 'Noor', 'Layla'], _given: [null, { extension: [{ url: 'http://example.org/x', valueString: 'n' }] }, null] }],
  gender: 'female',
  birthDate: '1990-01-01',
  deceasedBoolean: false,
  contact: [{ name: { family: 'Haddad', given: ['Omar'] } }],
};

interface Case {
  name: string;
  body: unknown;
  /** the stored Patient afterwards, without meta (when the patch applies) */
  expect?: (p: typeof PATIENT) => unknown;
  status?: number;
  code?: string;
}

const CASES: Case[] = [
  { name: 'add an element Patient does not have', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'x' }, { name: 'value', valueCode: 'x' }])), status: 422 },
  { name: 'add to a repeating element appends', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'telecom' }, { name: 'value', valueContactPoint: { system: 'phone', value: '+30 690' } }])), expect: (p) => ({ ...p, telecom: [{ system: 'phone', value: '+30 690' }] }) },
  { name: 'add a primitive', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'active' }, { name: 'value', valueBoolean: true }])), expect: (p) => ({ ...p, active: true }) },
  { name: 'add a backbone element from parts', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'communication' }, { name: 'value', part: [{ name: 'language', valueCodeableConcept: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }] } }, { name: 'preferred', valueBoolean: true }] }])), expect: (p) => ({ ...p, communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'ar' }] }, preferred: true }] }) },
  { name: 'add into a nested element', body: doc(op('add', 'Patient.contact[0]', [{ name: 'name', valueString: 'gender' }, { name: 'value', valueCode: 'male' }])), expect: (p) => ({ ...p, contact: [{ ...p.contact[0], gender: 'male' }] }) },
  { name: 'add a single element that is present', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'gender' }, { name: 'value', valueCode: 'male' }])), status: 422 },
  { name: 'insert at the start of a list', body: doc(op('insert', 'Patient.identifier', [{ name: 'index', valueInteger: 0 }, { name: 'value', valueIdentifier: { system: 'urn:x', value: '0' } }])), expect: (p) => ({ ...p, identifier: [{ system: 'urn:x', value: '0' }, ...p.identifier] }) },
  { name: 'insert keeps a primitive list\'s extensions aligned', body: doc(op('insert', 'Patient.name[0].given', [{ name: 'index', valueInteger: 1 }, { name: 'value', valueString: 'Sara' }])), expect: (p) => ({ ...p, name: [{ ...p.name[0], given: ['Amal', 'Sara', 'Noor', 'Layla'], _given: [null, null, p.name[0]._given[1], null] }] }) },
  { name: 'insert into an empty list', body: doc(op('insert', 'Patient.telecom', [{ name: 'index', valueInteger: 0 }, { name: 'value', valueContactPoint: { system: 'email', value: 'a@b.c' } }])), expect: (p) => ({ ...p, telecom: [{ system: 'email', value: 'a@b.c' }] }) },
  { name: 'insert beyond the end', body: doc(op('insert', 'Patient.identifier', [{ name: 'index', valueInteger: 3 }, { name: 'value', valueIdentifier: { value: 'z' } }])), status: 422 },
  { name: 'delete one element of a list', body: doc(op('delete', "Patient.identifier.where(system='http://hl7.it/sid/stp')")), expect: (p) => ({ ...p, identifier: [p.identifier[1]] }) },
  { name: 'delete a primitive with its extensions', body: doc(op('delete', 'Patient.name[0].given[1]')), expect: (p) => ({ ...p, name: [{ ...p.name[0], given: ['Amal', 'Layla'], _given: [null, null] }] }) },
  { name: 'delete a choice element', body: doc(op('delete', 'Patient.deceased')), expect: ({ deceasedBoolean: _, ...p }) => p },
  { name: 'delete the last element of a list removes the list', body: doc(op('delete', 'Patient.contact[0]')), expect: ({ contact: _, ...p }) => p },
  { name: 'delete of nothing is no change', body: doc(op('delete', 'Patient.telecom')), expect: (p) => p },
  { name: 'delete matching several', body: doc(op('delete', 'Patient.identifier')), status: 422, code: 'multiple-matches' },
  { name: 'replace a primitive', body: doc(op('replace', 'Patient.birthDate', [{ name: 'value', valueDate: '1990-02-01' }])), expect: (p) => ({ ...p, birthDate: '1990-02-01' }) },
  { name: 'replace an element of a list', body: doc(op('replace', 'Patient.identifier[1]', [{ name: 'value', valueIdentifier: { system: 'urn:x', value: 'N2' } }])), expect: (p) => ({ ...p, identifier: [p.identifier[0], { system: 'urn:x', value: 'N2' }] }) },
  { name: 'replace nothing', body: doc(op('replace', 'Patient.telecom', [{ name: 'value', valueContactPoint: { value: 'x' } }])), status: 422 },
  { name: 'move within a list', body: doc(op('move', 'Patient.name[0].given', [{ name: 'source', valueInteger: 2 }, { name: 'destination', valueInteger: 0 }])), expect: (p) => ({ ...p, name: [{ ...p.name[0], given: ['Layla', 'Amal', 'Noor'], _given: [null, null, p.name[0]._given[1]] }] }) },
  { name: 'move out of range', body: doc(op('move', 'Patient.identifier', [{ name: 'source', valueInteger: 5 }, { name: 'destination', valueInteger: 0 }])), status: 422 },
  { name: 'several operations in order', body: doc(op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'other' }]), op('delete', 'Patient.birthDate')), expect: ({ birthDate: _, ...p }) => ({ ...p, gender: 'other' }) },
  { name: 'a later failing operation applies none', body: doc(op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'other' }]), op('replace', 'Patient.telecom', [{ name: 'value', valueContactPoint: {} }])), status: 422 },
  { name: 'a result the validator refuses', body: doc(op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'unknown-gender' }])), status: 422 },
  { name: 'changing the id', body: doc(op('replace', 'Patient.id', [{ name: 'value', valueId: 'other' }])), status: 422 },
  { name: 'the resource itself', body: doc(op('delete', 'Patient')), status: 422 },
  { name: 'a computed value', body: doc(op('delete', '1 + 1')), status: 422 },
  { name: 'invalid FHIRPath', body: doc(op('delete', 'Patient.name[')), status: 400 },
  { name: 'a path multiplying collections', body: doc(op('delete', 'Patient.name.select(%resource.name.select(%resource.name))')), status: 400 },
  { name: 'a path over every descendant', body: doc(op('delete', 'Patient.descendants().where(false)')), status: 400 },
  { name: 'a path too long', body: doc(op('delete', `Patient.name${'.first()'.repeat(200)}`)), status: 400 },
  { name: 'unknown operation type', body: doc(op('copy', 'Patient.name')), status: 400 },
  { name: 'no path', body: doc({ name: 'operation', part: [{ name: 'type', valueCode: 'delete' }] }), status: 400 },
  { name: 'insert without an index', body: doc(op('insert', 'Patient.identifier', [{ name: 'value', valueIdentifier: {} }])), status: 400 },
  { name: 'add without a value', body: doc(op('add', 'Patient', [{ name: 'name', valueString: 'active' }])), status: 400 },
  { name: 'a parameter that is not an operation', body: { resourceType: 'Parameters', parameter: [{ name: 'op', part: [] }] }, status: 400 },
  { name: 'no operations', body: { resourceType: 'Parameters' }, status: 400 },
  { name: 'a resource that is not Parameters', body: { resourceType: 'Patient' }, status: 400 },
];

t.test('FHIRPath Patch cases', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const c of CASES) {
    const put = await fhir(app, 'PUT', '/fhir/Patient/p', PATIENT);
    t.ok(put.status === 200 || put.status === 201, 'fixture stored');
    const before = (await fhir(app, 'GET', '/fhir/Patient/p')).body;
    const res = await fhir(app, 'PATCH', '/fhir/Patient/p', c.body);
    const after = (await fhir(app, 'GET', '/fhir/Patient/p')).body;
    if (c.expect) {
      t.equal(res.status, 200, `${c.name}: 200`, { body: res.body });
      const { meta: _m, ...stored } = after;
      t.same(stored, c.expect(structuredClone(PATIENT)), `${c.name}: the stored result`);
      t.same(res.body.id, 'p');
    } else {
      t.equal(res.status, c.status, `${c.name}: ${c.status}`, { body: res.body });
      t.equal(res.body?.resourceType, 'OperationOutcome', `${c.name}: an OperationOutcome`);
      if (c.code) t.ok(res.body.issue.some((i: { code: string }) => i.code === c.code), `${c.name}: ${c.code}`);
      t.same(after, before, `${c.name}: nothing changed`);
    }
  }
});

t.test('FHIRPath Patch in a transaction, JSON Patch unchanged, other media types refused', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await fhir(app, 'PUT', '/fhir/Patient/p', PATIENT);
  const tx = await fhir(app, 'POST', '/fhir', {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [{ resource: doc(op('replace', 'Patient.gender', [{ name: 'value', valueCode: 'male' }])), request: { method: 'PATCH', url: 'Patient/p' } }],
  });
  t.equal(tx.status, 200, 'transaction', { body: tx.body });
  t.equal(tx.body.entry[0].response.status, '200 OK');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p')).body.gender, 'male');
  const json = await app.inject({ method: 'PATCH', url: '/fhir/Patient/p', headers: { 'content-type': 'application/json-patch+json' }, payload: JSON.stringify([{ op: 'replace', path: '/gender', value: 'female' }]) });
  t.equal(json.statusCode, 200, 'JSON Patch still works');
  t.equal((await fhir(app, 'GET', '/fhir/Patient/p')).body.gender, 'female');
  const text = await app.inject({ method: 'PATCH', url: '/fhir/Patient/p', headers: { 'content-type': 'text/plain' }, payload: 'gender=male' });
  t.equal(text.statusCode, 415);
  const meta = await fhir(app, 'GET', '/fhir/metadata');
  t.same(meta.body.patchFormat, ['application/json-patch+json', 'application/fhir+json', 'application/fhir+xml'], 'CapabilityStatement.patchFormat');
});
