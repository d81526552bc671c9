// Index rows from sensitive elements are marked from the data (src/search/sensitive-rows.ts),
// whatever the parameter's expression; resources without the sensitivity label are not
// extracted twice and carry no marks.
import t from 'tap';
import type { Resource } from 'fhir/r4.js';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { extractIndex } from '../../src/search/extract.ts';
import { labelSensitive } from '../../src/auth/sensitive.ts';

const defs = loadDefinitions();
const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const OTHER_EXT = 'http://example.org/fhir/StructureDefinition/legal-note';
const irregular = { valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'irregular' }] } };

function registry(params: [code: string, type: string, expression: string][]): SearchParamRegistry {
  const r = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  for (const [code, type, expression] of params) {
    r.addCustom({ url: `http://example.org/fhir/SearchParameter/${code}`, code, base: ['Patient'], type, expression, target: [] });
  }
  return r;
}

function stored(resource: Resource): Resource {
  labelSensitive(resource);
  return resource;
}

t.test('parameters reading sensitive elements are marked, others are not', async (t) => {
  const r = registry([
    ['anyext', 'token', 'Patient.extension.extension.value'],
    ['note', 'token', `Patient.extension.where(url = '${OTHER_EXT}').extension.value`],
    ['unmarked', 'token', `Patient.extension.where(url = '${STATUS_EXT}').exists().not()`],
    ['name-if-status', 'string', `Patient.where(extension.where(url = '${STATUS_EXT}').exists()).name`],
  ]);
  // the same code in a non-sensitive extension: after dedupe, one row for both
  const patient = stored({
    resourceType: 'Patient', id: 'p', name: [{ family: 'Haddad' }],
    extension: [{ url: OTHER_EXT, extension: [{ url: 'code', ...irregular }] }, { url: STATUS_EXT, extension: [{ url: 'status', ...irregular }] }],
  } as Resource);
  const rows = extractIndex(patient, r);
  t.same(rows.sensitive, ['Patient.anyext', 'Patient.name-if-status', 'Patient.unmarked'], 'marked: a shared value, a where() on the status, a test for its absence');
  t.equal(rows.token.filter((x) => x.param === 'Patient.anyext').length, 1, 'the shared value is one row');
  t.notOk(rows.sensitive!.includes('Patient.note'), 'a parameter on another extension is not');
  t.notOk(rows.sensitive!.includes('Patient.name'), 'nor are the standard ones');
});

t.test('resources without the sensitivity label carry no marks', async (t) => {
  const r = registry([['anyext', 'token', 'Patient.extension.extension.value']]);
  const plain = stored({ resourceType: 'Patient', id: 'q', extension: [{ url: OTHER_EXT, extension: [{ url: 'code', ...irregular }] }] } as Resource);
  t.notOk(plain.meta?.security, 'not labelled');
  t.equal(extractIndex(plain, r).sensitive, undefined);
  // sensitive content without the label is not redacted either; only labelled content is compared
  const unlabelled = { resourceType: 'Patient', id: 'u', extension: [{ url: STATUS_EXT, extension: [{ url: 'status', ...irregular }] }] };
  t.equal(extractIndex(unlabelled, r).sensitive, undefined);
});

t.test('composite parameters whose components read the status are marked', async (t) => {
  const r = registry([['anyext', 'token', 'Patient.extension.extension.value'], ['code', 'token', 'Patient.extension.extension.url']]);
  r.addCustom({
    url: 'http://example.org/fhir/SearchParameter/ext-pair', code: 'ext-pair', base: ['Patient'], type: 'composite', expression: 'Patient.extension.extension', target: [],
    component: [
      { definition: 'http://example.org/fhir/SearchParameter/code', expression: 'url' },
      { definition: 'http://example.org/fhir/SearchParameter/anyext', expression: 'value' },
    ],
  });
  const patient = stored({ resourceType: 'Patient', id: 'p', extension: [{ url: STATUS_EXT, extension: [{ url: 'status', ...irregular }] }] } as Resource);
  const rows = extractIndex(patient, r);
  t.ok(rows.composite.some((c) => c.param === 'Patient.ext-pair'), 'the composite has rows');
  t.ok(rows.sensitive?.includes('Patient.ext-pair'), 'and is marked');
});

// Rows from status-revealing identifiers and the sensitivity labels are marked as the resource
// is extracted, without extracting its view again. A custom parameter that could read into an
// identifier sends the type back to extracting both views: the base parameters' rows must come
// out the same either way, row for row, mark for mark.
t.test('rows marked while extracting are those a second extraction of the view finds', async (t) => {
  const LMA = 'https://migfhir.org/fhir/sid/se-lma';
  const UNHCR = 'https://migfhir.org/fhir/sid/unhcr-progres';
  const PNR = 'urn:oid:1.2.752.129.2.1.3.1';
  const filtered = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  const twice = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  for (const base of ['Patient', 'Encounter', 'Observation', 'Coverage', 'Bundle']) {
    twice.addCustom({ url: `http://example.org/fhir/SearchParameter/${base}-first-id`, code: 'first-id', base: [base], type: 'token', expression: `${base}.identifier.first()`, target: [] } as never);
  }
  const status = { url: STATUS_EXT, extension: [{ url: 'status', ...irregular }] };
  const resources = [
    { resourceType: 'Patient', id: 'a', identifier: [{ system: PNR, value: '199001011234' }, { system: LMA, value: '12-345678', type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'PRC' }] } }], name: [{ family: 'Haddad' }], generalPractitioner: [{ reference: 'Practitioner/x', identifier: { system: LMA, value: '12-345678' } }] },
    { resourceType: 'Patient', id: 'b', identifier: [{ system: LMA, value: '1' }, { system: LMA, value: '1' }], extension: [status], link: [{ other: { identifier: { system: UNHCR, value: 'U-1' } }, type: 'seealso' }] },
    { resourceType: 'Patient', id: 'c', extension: [status], meta: { security: [{ system: 'urn:x', code: 'mine' }] } },
    { resourceType: 'Encounter', id: 'e', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/a', identifier: { system: LMA, value: '12-345678' } }, participant: [{ individual: { identifier: { system: UNHCR, value: 'U-2' } } }] },
    { resourceType: 'Observation', id: 'o', status: 'final', code: { coding: [{ system: LMA, code: 'not-an-identifier' }] }, subject: { identifier: { system: UNHCR, value: 'U-3' } }, performer: [{ reference: 'Practitioner/y' }] },
    { resourceType: 'Coverage', id: 'v', status: 'active', beneficiary: { reference: 'Patient/a' }, payor: [{ display: 'x' }], identifier: [{ system: LMA, value: '9' }], subscriberId: '9' },
    { resourceType: 'Bundle', id: 'd', type: 'collection', identifier: { system: UNHCR, value: 'U-4' }, entry: [{ resource: { resourceType: 'Patient', identifier: [{ system: LMA, value: '5' }] } }] },
  ];
  const withoutCustom = (rows: Record<string, unknown>) => JSON.stringify(Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, Array.isArray(v) ? v.filter((r) => !(typeof r === 'object' && r && String((r as { param?: string }).param).endsWith('.first-id'))).map((r) => JSON.stringify(r)).sort() : v])));
  for (const r of resources) {
    const resource = stored(r as unknown as Resource);
    t.ok(resource.meta?.security?.some((s) => s.code === 'migration'), `${r.resourceType}/${r.id} is labelled`);
    const one = extractIndex(resource, filtered);
    const two = extractIndex(resource, twice);
    t.equal(withoutCustom(one as never), withoutCustom(two as never), `${r.resourceType}/${r.id}: the same rows and marks`);
    t.ok(one.token.some((x) => x.param === 'Resource._security' && x.code === 'migration' && x.sens === 1), `${r.resourceType}/${r.id}: the migration label's row is the full resource's only`);
  }
});
