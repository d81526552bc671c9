// asIps: the IPS profile a summary's copy of a resource declares, and the data-absent-reason
// markers that let a record missing an element IPS makes mandatory still meet that profile —
// each case checked with our validator against the IPS package itself.
import t, { type Test } from 'tap';
import type { Resource } from 'fhir/r4.js';
import { asIps, ipsProfile } from '../../src/ips/profiles.ts';
import { IPS, ipsValidator } from '../helpers/ips.ts';

const { validator } = ipsValidator();
const DAR = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', valueCode: 'unknown' }] };
const subject = { reference: 'urn:uuid:5f1d2a8e-7c1e-4b7a-9d55-0d7c3f0a1b11' };
const lab = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'laboratory' }] };
const vital = { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' }] };
const hr = { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] };

const errorsOf = (r: unknown) => validator.validate(r).filter((i) => i.severity === 'error').map((i) => `${i.expression?.[0]}: ${i.diagnostics.slice(0, 160)}`);

/** The resource fails its IPS profile as stored, and meets it once asIps has run. */
function meets(t: Test, label: string, stored: Record<string, unknown>, profile: string) {
  const declared = { ...structuredClone(stored), meta: { profile: [profile] } };
  t.not(errorsOf(declared).length, 0, `${label}: as stored, not valid against ${profile.split('/').pop()}`);
  const copy = structuredClone(stored) as unknown as Resource;
  asIps(copy);
  t.equal(copy.meta?.profile?.[0], profile, `${label}: declares ${profile.split('/').pop()}`);
  t.same(errorsOf(copy), [], `${label}: valid once the gaps are stated`);
  return copy as unknown as Record<string, any>;
}

t.test('a record missing what IPS makes mandatory meets the profile with the gaps stated', async (t) => {
  let r = meets(t, 'Patient without name or birth date', { resourceType: 'Patient', gender: 'unknown' }, `${IPS}Patient-uv-ips`);
  t.same(r._birthDate, DAR);
  t.same(r.name, [{ _text: DAR }]);
  r = meets(t, 'Patient with a name of no parts', { resourceType: 'Patient', name: [{ use: 'official' }], birthDate: '1990' }, `${IPS}Patient-uv-ips`);
  t.same(r.name, [{ use: 'official', _text: DAR }]);
  t.equal(r.birthDate, '1990', 'a partial birth date is kept as it is');
  meets(t, 'Practitioner without name', { resourceType: 'Practitioner', identifier: [{ value: 'x' }] }, `${IPS}Practitioner-uv-ips`);
  meets(t, 'Organization without name', { resourceType: 'Organization', identifier: [{ system: 'urn:oid:1.2.3', value: 'x' }] }, `${IPS}Organization-uv-ips`);
  meets(t, 'Condition without code', { resourceType: 'Condition', subject, clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] } }, `${IPS}Condition-uv-ips`);
  meets(t, 'Procedure without code or date', { resourceType: 'Procedure', status: 'completed', subject }, `${IPS}Procedure-uv-ips`);
  meets(t, 'MedicationStatement without effective[x]', { resourceType: 'MedicationStatement', status: 'active', subject, medicationCodeableConcept: { text: 'metformin' } }, `${IPS}MedicationStatement-uv-ips`);
  r = meets(t, 'laboratory result without performer, date or value', { resourceType: 'Observation', status: 'final', category: [lab], code: hr, subject }, `${IPS}Observation-results-laboratory-pathology-uv-ips`);
  t.equal(r.dataAbsentReason.coding[0].code, 'unknown');
  t.same(r.performer, [DAR]);
});

t.test('values the record holds are never changed', async (t) => {
  const stored = { resourceType: 'Observation', status: 'final', category: [lab], code: hr, subject, effectiveDateTime: '2024-03-01', valueQuantity: { value: 72, unit: '/min' }, performer: [{ display: 'Dr Papadopoulou' }], meta: { profile: ['https://example.org/own'] } };
  const copy = structuredClone(stored) as unknown as Resource;
  asIps(copy);
  const { meta, ...rest } = copy as unknown as Record<string, unknown>;
  const { meta: _m, ...before } = stored;
  void _m;
  t.same(rest, before);
  t.same((meta as { profile: string[] }).profile, [`${IPS}Observation-results-laboratory-pathology-uv-ips`, 'https://example.org/own'], 'the IPS profile first, the ones declared before kept');
});

t.test('a date less precise than a day cannot claim vitalsigns or the radiology profile', async (t) => {
  const vs = { resourceType: 'Observation', status: 'final', category: [vital], code: hr, subject, valueQuantity: { value: 72, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' } };
  t.equal(ipsProfile({ ...vs, effectiveDateTime: '2024-03-01T10:00:00Z' } as Resource), 'http://hl7.org/fhir/StructureDefinition/vitalsigns');
  t.equal(ipsProfile({ ...vs, effectiveDateTime: '2024' } as Resource), undefined);
  const copy = { ...vs, effectiveDateTime: '2024' } as unknown as Resource;
  asIps(copy);
  t.notOk(copy.meta, 'nothing declared, nothing added');
  t.equal(ipsProfile({ ...vs, category: [{ coding: [{ code: 'imaging' }] }], effectiveDateTime: '2024-03' } as Resource), undefined);
});

t.test('resources IPS has no profile for declare none', async (t) => {
  for (const r of [{ resourceType: 'ServiceRequest' }, { resourceType: 'QuestionnaireResponse' }, { resourceType: 'Observation', code: { text: 'social history' } }]) {
    t.equal(ipsProfile(r as Resource), undefined, r.resourceType);
  }
});
