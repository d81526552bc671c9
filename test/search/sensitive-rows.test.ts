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
