// StructureDefinition/$snapshot and differential-only profiles on the server: a FSH/SUSHI-style
// set written by hand (an extension with its own profile, a Patient profile slicing identifier
// by system and narrowing deceased[x], a profile on that profile, an Observation profile naming
// valueQuantity) is stored in any order — by PUT and in a transaction — and used by $validate;
// a profile that cannot be used says why (the base it lacks, the element id that breaks its
// base), at $validate, at $snapshot, and in the log at start-up.
import t from 'tap';
import type { Observation, Patient, StructureDefinition } from 'fhir/r4.js';
import { buildApp } from '../../src/app.ts';
import { testConfig } from '../../src/config.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';

const BASE = 'https://example.org/fhir/StructureDefinition/';
const UNHCR = 'http://unhcr.org/fhir/sid/progres';

const arrival: StructureDefinition = {
  resourceType: 'StructureDefinition', id: 'arrival-country', url: `${BASE}arrival-country`, name: 'ArrivalCountry', status: 'draft', fhirVersion: '4.0.1',
  kind: 'complex-type', abstract: false, context: [{ type: 'element', expression: 'Patient' }], type: 'Extension', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Extension', derivation: 'constraint',
  differential: { element: [
    { id: 'Extension', path: 'Extension', short: 'Country of arrival', definition: 'The country where the person first arrived.' },
    { id: 'Extension.extension', path: 'Extension.extension', max: '0' },
    { id: 'Extension.url', path: 'Extension.url', fixedUri: `${BASE}arrival-country` },
    { id: 'Extension.value[x]', path: 'Extension.value[x]', min: 1, type: [{ code: 'CodeableConcept' }], binding: { strength: 'required', valueSet: 'http://hl7.org/fhir/ValueSet/iso3166-1-2' } },
  ] },
};

const migrant: StructureDefinition = {
  resourceType: 'StructureDefinition', id: 'migrant-patient-base', url: `${BASE}migrant-patient-base`, name: 'MigrantPatientBase', status: 'draft', fhirVersion: '4.0.1',
  kind: 'resource', abstract: false, type: 'Patient', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Patient', derivation: 'constraint',
  differential: { element: [
    { id: 'Patient', path: 'Patient' },
    { id: 'Patient.extension', path: 'Patient.extension', slicing: { discriminator: [{ type: 'value', path: 'url' }], ordered: false, rules: 'open' } },
    { id: 'Patient.extension:arrivalCountry', path: 'Patient.extension', sliceName: 'arrivalCountry', min: 0, max: '1', type: [{ code: 'Extension', profile: [`${BASE}arrival-country`] }] },
    { id: 'Patient.identifier', path: 'Patient.identifier', slicing: { discriminator: [{ type: 'value', path: 'system' }], ordered: false, rules: 'open' }, min: 1 },
    { id: 'Patient.identifier:unhcr', path: 'Patient.identifier', sliceName: 'unhcr', min: 0, max: '1' },
    { id: 'Patient.identifier:unhcr.system', path: 'Patient.identifier.system', min: 1, fixedUri: UNHCR },
    { id: 'Patient.identifier:unhcr.value', path: 'Patient.identifier.value', min: 1 },
    { id: 'Patient.deceased[x]', path: 'Patient.deceased[x]', type: [{ code: 'boolean' }] },
  ] },
};

/** a profile on the profile: the UNHCR number required */
const registered: StructureDefinition = {
  resourceType: 'StructureDefinition', id: 'registered-refugee', url: `${BASE}registered-refugee`, name: 'RegisteredRefugee', status: 'draft', fhirVersion: '4.0.1',
  kind: 'resource', abstract: false, type: 'Patient', baseDefinition: `${BASE}migrant-patient-base`, derivation: 'constraint',
  differential: { element: [
    { id: 'Patient.identifier:unhcr', path: 'Patient.identifier', sliceName: 'unhcr', min: 1 },
    { id: 'Patient.extension:arrivalCountry', path: 'Patient.extension', sliceName: 'arrivalCountry', min: 1 },
  ] },
};

const muac: StructureDefinition = {
  resourceType: 'StructureDefinition', id: 'muac', url: `${BASE}muac`, name: 'MUAC', status: 'draft', fhirVersion: '4.0.1',
  kind: 'resource', abstract: false, type: 'Observation', baseDefinition: 'http://hl7.org/fhir/StructureDefinition/Observation', derivation: 'constraint',
  differential: { element: [
    { id: 'Observation.code', path: 'Observation.code', patternCodeableConcept: { coding: [{ system: 'http://loinc.org', code: '56072-2' }] } },
    { id: 'Observation.valueQuantity', path: 'Observation.valueQuantity', min: 1 },
    { id: 'Observation.valueQuantity.unit', path: 'Observation.valueQuantity.unit', min: 1 },
    { id: 'Observation.valueQuantity.code', path: 'Observation.valueQuantity.code', min: 1, fixedCode: 'cm' },
  ] },
};

const goodPatient: Patient = {
  resourceType: 'Patient',
  extension: [{ url: `${BASE}arrival-country`, valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'GR' }] } }],
  identifier: [{ system: UNHCR, value: '123-45C67890' }],
  deceasedBoolean: false,
};
const errorsOf = (oo: any): string[] => oo.issue.filter((i: any) => i.severity === 'error').map((i: any) => `${i.expression?.[0]}: ${i.diagnostics}`);
const validate = (app: any, resource: unknown, profile: string) => fhir(app, 'POST', `/fhir/${(resource as { resourceType: string }).resourceType}/$validate?profile=${encodeURIComponent(profile)}`, resource);

t.test('a profile on a profile PUT before its base: 422 naming the base, usable once it arrives in a transaction', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  let r = await fhir(app, 'PUT', '/fhir/StructureDefinition/registered-refugee', registered);
  t.equal(r.status, 201, 'stored as written');
  r = await validate(app, goodPatient, registered.url);
  t.equal(r.status, 422, 'held, but not usable');
  t.match(r.body.issue[0].diagnostics, `cannot resolve the base ${BASE}migrant-patient-base`, 'names the missing base');
  t.notMatch(r.raw, /not known/);
  r = await fhir(app, 'POST', '/fhir', {
    resourceType: 'Bundle', type: 'transaction',
    entry: [migrant, arrival].map((sd) => ({ resource: sd, request: { method: 'PUT', url: `StructureDefinition/${sd.id}` } })),
  });
  t.equal(r.status, 200);
  r = await validate(app, goodPatient, registered.url);
  t.equal(r.status, 200);
  t.same(errorsOf(r.body), [], 'a registered refugee as the profiles want it');

  const bad: Patient = {
    resourceType: 'Patient',
    extension: [{ url: `${BASE}arrival-country`, valueString: 'Greece' }],
    identifier: [{ system: 'urn:oid:1.2.3', value: 'x' }],
    deceasedDateTime: '2020-01-01',
  };
  r = await validate(app, bad, registered.url);
  const errors = errorsOf(r.body).join('\n');
  t.match(errors, /Slice 'unhcr': a matching slice is required/, 'the UNHCR number the profile on the profile requires');
  t.match(errors, /Patient.deceasedDateTime/, 'deceased[x] narrowed to boolean');
  t.match(errors, /Patient.extension\[0\]/, 'the extension\'s own profile: a CodeableConcept value');
  r = await validate(app, { ...goodPatient, identifier: [{ system: 'urn:oid:1.2.3', value: 'x' }] }, migrant.url);
  t.same(errorsOf(r.body), [], 'the base profile does not require the UNHCR number');
  // the base changes: the profile on it follows
  r = await fhir(app, 'PUT', '/fhir/StructureDefinition/migrant-patient-base', { ...migrant, differential: { element: [...migrant.differential!.element, { id: 'Patient.birthDate', path: 'Patient.birthDate', min: 1 }] } });
  t.equal(r.status, 200);
  r = await validate(app, goodPatient, registered.url);
  t.match(errorsOf(r.body).join('\n'), /birthDate: minimum required = 1/, 'the changed base applies to the profile on it');
});

t.test('valueQuantity in a hand-written differential narrows value[x]', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  t.equal((await fhir(app, 'POST', '/fhir/StructureDefinition', muac)).status, 201);
  const obs: Observation = { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '56072-2' }] }, valueQuantity: { value: 11.2, unit: 'cm', system: 'http://unitsofmeasure.org', code: 'cm' } };
  let r = await validate(app, obs, muac.url);
  t.same(errorsOf(r.body), []);
  r = await validate(app, { ...obs, valueQuantity: { value: 11.2, system: 'http://unitsofmeasure.org', code: 'mm' } }, muac.url);
  const errors = errorsOf(r.body).join('\n');
  t.match(errors, /unit/, 'unit required');
  t.match(errors, /must be 'cm'/, 'the fixed code');
  r = await validate(app, { ...obs, valueQuantity: undefined, valueString: '11 cm' }, muac.url);
  t.match(errorsOf(r.body).join('\n'), /valueString|value\[x\]/, 'another type of value');
});

t.test('StructureDefinition/$snapshot', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const sd of [arrival, migrant]) await fhir(app, 'PUT', `/fhir/StructureDefinition/${sd.id}`, sd);
  // by id
  let r = await fhir(app, 'GET', '/fhir/StructureDefinition/migrant-patient-base/$snapshot');
  t.equal(r.status, 200);
  t.equal(r.body.resourceType, 'StructureDefinition');
  const at = (body: any, id: string) => body.snapshot.element.find((e: any) => e.id === id);
  t.same(at(r.body, 'Patient.deceased[x]').type, [{ code: 'boolean' }]);
  t.equal(at(r.body, 'Patient.identifier:unhcr.system').fixedUri, UNHCR);
  t.equal(at(r.body, 'Patient.extension:arrivalCountry').short, 'Country of arrival', 'extension slices documented from the extension');
  t.same(r.body.differential, migrant.differential, 'the differential as written');
  // by url, in the query and in Parameters
  r = await fhir(app, 'GET', `/fhir/StructureDefinition/$snapshot?url=${encodeURIComponent(migrant.url)}`);
  t.equal(r.status, 200);
  t.ok(at(r.body, 'Patient.identifier:unhcr'));
  r = await fhir(app, 'GET', `/fhir/StructureDefinition/$snapshot?url=${encodeURIComponent('http://hl7.org/fhir/StructureDefinition/bmi')}`);
  t.equal(r.status, 200, 'an R4 profile, generated again');
  t.same(at(r.body, 'Observation.value[x]').type.map((x: any) => x.code), ['Quantity']);
  // a definition in the request, on a stored base: nothing is stored
  r = await fhir(app, 'POST', '/fhir/StructureDefinition/$snapshot', { resourceType: 'Parameters', parameter: [{ name: 'definition', resource: registered }] });
  t.equal(r.status, 200);
  t.equal(at(r.body, 'Patient.identifier:unhcr').min, 1);
  t.equal(at(r.body, 'Patient.identifier:unhcr.system').fixedUri, UNHCR, 'from the base profile');
  t.equal((await fhir(app, 'GET', '/fhir/StructureDefinition/registered-refugee')).status, 404, 'not stored');
  // why not: a bad path (with its element id), a missing base (with its url), unknown ones
  r = await fhir(app, 'POST', '/fhir/StructureDefinition/$snapshot', { resourceType: 'Parameters', parameter: [{ name: 'definition', resource: { ...registered, differential: { element: [{ id: 'Patient.nationality', path: 'Patient.nationality', min: 1 }] } } }] });
  t.equal(r.status, 422);
  t.match(r.body.issue[0].diagnostics, 'Patient.nationality is not an element of the base');
  r = await fhir(app, 'POST', '/fhir/StructureDefinition/$snapshot', { ...registered, baseDefinition: `${BASE}nowhere` });
  t.equal(r.status, 422, 'a StructureDefinition as the body');
  t.match(r.body.issue[0].diagnostics, `cannot resolve the base ${BASE}nowhere`);
  t.equal((await fhir(app, 'GET', `/fhir/StructureDefinition/$snapshot?url=${encodeURIComponent(`${BASE}nowhere`)}`)).status, 404);
  t.equal((await fhir(app, 'GET', '/fhir/StructureDefinition/nowhere/$snapshot')).status, 404);
  t.equal((await fhir(app, 'GET', '/fhir/StructureDefinition/$snapshot')).status, 400, 'neither definition nor url');
  const cs = await fhir(app, 'GET', '/fhir/metadata');
  const sdOps = cs.body.rest[0].resource.find((x: any) => x.type === 'StructureDefinition').operation.map((o: any) => o.name);
  t.ok(sdOps.includes('snapshot'), 'in the CapabilityStatement');
});

t.test('stored differentials are used after a restart; unusable ones are named in the log', async (t) => {
  const store = new SqliteStore({ path: ':memory:' });
  t.teardown(() => store.close());
  let app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir' }), { store });
  for (const sd of [arrival, migrant, registered]) await fhir(app, 'PUT', `/fhir/StructureDefinition/${sd.id}`, sd);
  await fhir(app, 'PUT', '/fhir/StructureDefinition/orphan', { ...registered, id: 'orphan', url: `${BASE}orphan`, baseDefinition: `${BASE}nowhere` });
  await app.close();
  const lines: string[] = [];
  app = await buildApp(testConfig({ baseUrl: 'http://test.local/fhir', logLevel: 'warn' }), { store, logStream: { write: (l: string) => lines.push(l) } });
  t.teardown(() => app.close());
  const r = await validate(app, { ...goodPatient, extension: undefined }, registered.url);
  t.equal(r.status, 200);
  t.match(errorsOf(r.body).join('\n'), /Slice 'arrivalCountry': a matching slice is required/, 'the profile on the profile, from the stored differentials');
  const log = lines.join('\n');
  t.match(log, `StructureDefinition ${BASE}orphan cannot be used to validate`);
  t.match(log, `cannot resolve the base ${BASE}nowhere`);
  t.notMatch(log, /registered-refugee cannot/);
});

t.test('$snapshot needs read access to StructureDefinitions', async (t) => {
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/StructureDefinition.rs system/Patient.rs' });
  const url = `/fhir/StructureDefinition/$snapshot?url=${encodeURIComponent('http://hl7.org/fhir/StructureDefinition/bmi')}`;
  t.equal((await fhir(app, 'GET', url, undefined, await bearer('system/StructureDefinition.rs'))).status, 200);
  t.equal((await fhir(app, 'GET', url, undefined, await bearer('system/Patient.rs'))).status, 403, 'not with Patient access only');
  t.equal((await fhir(app, 'GET', url)).status, 401, 'not without a token');
});

t.test('a stored StructureDefinition cannot replace an R4 definition', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const broken = { ...migrant, id: 'patient-copy', url: 'http://hl7.org/fhir/StructureDefinition/Patient', baseDefinition: 'https://example.org/nowhere' };
  t.equal((await fhir(app, 'PUT', '/fhir/StructureDefinition/patient-copy', broken)).status, 201);
  const r = await fhir(app, 'POST', '/fhir/Patient', { resourceType: 'Patient', gender: 'female' });
  t.equal(r.status, 201, 'Patients are still Patients');
  t.same(errorsOf((await fhir(app, 'POST', '/fhir/Patient/$validate', { resourceType: 'Patient', gender: 'female' })).body), []);
});
