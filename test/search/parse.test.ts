// The pure search parser (src/search/parse.ts): request parameters → typed IR, with values
// already normalized (folded strings, epoch-ms ranges, decimal precision ranges).
import t from 'tap';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { FhirError } from '../../src/fhir/errors.ts';
import type { ParsedSearch } from '../../src/search/parse.ts';
import { SearchParser, searchServices } from '../../src/search/parser.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { Terminology } from '../../src/terminology/service.ts';

const defs = loadDefinitions();
const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters);
const parser = new SearchParser(searchServices(registry, new Terminology()), { defaultCount: 20, maxCount: 100, maxSearchValues: 500, maxSearchParameters: 100 });

function parse(types: string | string[], qs: string, strict = false): ParsedSearch {
  const query: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) (query[k] ??= []).push(v);
  return parser.parse({ types: Array.isArray(types) ? types : [types], query, baseUrl: 'http://test.local/fhir', strict });
}

const conditions = (types: string | string[], qs: string) => parse(types, qs).query.conditions;

/** the status of the FhirError `fn` throws */
function statusOf(fn: () => unknown): number | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof FhirError ? err.status : -1;
  }
  return undefined;
}

const utc = Date.UTC;

t.test('string: folded prefix, :exact as written, :contains folded', async (t) => {
  t.same(conditions('Patient', 'name=Müller'), [{ kind: 'string', params: ['Patient.name'], values: ['muller'] }]);
  t.same(conditions('Patient', 'family:exact=Müller'), [{ kind: 'stringExact', params: ['Patient.family'], values: ['Müller'] }]);
  t.same(conditions('Patient', 'name:contains=ÖZD'), [{ kind: 'stringContains', params: ['Patient.name'], values: ['ozd'] }]);
  t.same(conditions('Patient', 'family=Ёлкина,Παπαδόπουλος'), [{ kind: 'string', params: ['Patient.family'], values: ['елкина', 'παπαδοπουλοσ'] }]);
});

t.test('escaping: \\, \\| \\$ \\\\', async (t) => {
  t.same(conditions('Patient', 'family=a\\,b')[0], { kind: 'string', params: ['Patient.family'], values: ['a,b'] });
  t.same(conditions('Patient', 'family=a\\\\b,c')[0], { kind: 'string', params: ['Patient.family'], values: ['a\\b', 'c'] });
  t.same(conditions('Patient', 'identifier=a\\|b')[0], { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ code: 'a|b' }] });
  t.same(conditions('Patient', 'identifier=urn:x|a\\$b')[0], { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ system: 'urn:x', code: 'a$b' }] });
});

t.test('token: code, system|code, |code, system|, :not, :text, :of-type', async (t) => {
  t.same(conditions('Patient', 'gender=female,male&gender:not=other'), [
    { kind: 'token', params: ['Patient.gender'], not: false, values: [{ code: 'female' }, { code: 'male' }] },
    { kind: 'token', params: ['Patient.gender'], not: true, values: [{ code: 'other' }] },
  ]);
  const [withSystem, noSystem, anyCode] = conditions('Patient', 'identifier=http://hl7.it/sid/codiceFiscale|MLLJRG85A01Z112X&identifier=|12345&identifier=urn:oid:2.16.840.1.113883.3.4424.1.1.616|');
  t.same(withSystem, { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ system: 'http://hl7.it/sid/codiceFiscale', code: 'MLLJRG85A01Z112X' }] });
  t.same(noSystem, { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ system: null, code: '12345' }] });
  t.same(anyCode, { kind: 'token', params: ['Patient.identifier'], not: false, values: [{ system: 'urn:oid:2.16.840.1.113883.3.4424.1.1.616' }] });
  t.notOk('code' in (anyCode as { values: object[] }).values[0], 'system| leaves the code out');
  t.same(conditions('Condition', 'code:text=Lungen Tuberkulose'), [{ kind: 'tokenText', params: ['Condition.code'], values: ['lungen tuberkulose'] }]);
  t.same(conditions('Patient', 'identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345'), [
    { kind: 'tokenOfType', params: ['Patient.identifier'], values: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR', value: '12345' }] },
  ]);
});

t.test('date: implied ranges, prefixes, time zones', async (t) => {
  t.same(conditions('Patient', 'birthdate=1985'), [{ kind: 'date', params: ['Patient.birthdate'], values: [{ prefix: 'eq', low: utc(1985, 0, 1), high: utc(1986, 0, 1) }] }]);
  t.same(conditions('Patient', 'birthdate=ge1990-07')[0], { kind: 'date', params: ['Patient.birthdate'], values: [{ prefix: 'ge', low: utc(1990, 6, 1), high: utc(1990, 7, 1) }] });
  t.same(conditions('Patient', 'birthdate=lt2000-02-29')[0], { kind: 'date', params: ['Patient.birthdate'], values: [{ prefix: 'lt', low: utc(2000, 1, 29), high: utc(2000, 2, 1) }] });
  const instant = utc(2023, 4, 10, 6, 30);
  t.same(conditions('Observation', 'date=sa2023-05-10T08:30:00+02:00')[0], { kind: 'date', params: ['Observation.date'], values: [{ prefix: 'sa', low: instant, high: instant + 1000 }] });
  t.same(conditions('Observation', 'date=2023-05-10T06:30Z')[0], { kind: 'date', params: ['Observation.date'], values: [{ prefix: 'eq', low: instant, high: instant + 60000 }] });
  t.same(conditions('Observation', 'date=eb2021-05-31T23:30:00.5-05:00')[0], {
    kind: 'date', params: ['Observation.date'], values: [{ prefix: 'eb', low: utc(2021, 5, 1, 4, 30, 0, 500), high: utc(2021, 5, 1, 4, 30, 0, 600) }],
  });
  for (const bad of ['1985-13', '2023-02-30', '85', 'yesterday', 'ge', 'gege2020', '2023-05-10T08', '2023-05-10T25:00:00Z', '{"$gt":""}']) {
    t.equal(statusOf(() => parse('Patient', `birthdate=${encodeURIComponent(bad)}`)), 400, `'${bad}' is a 400`);
  }
});

t.test('number: precision of the written value', async (t) => {
  t.same(conditions('RiskAssessment', 'probability=0.4'), [{ kind: 'number', params: ['RiskAssessment.probability'], values: [{ prefix: 'eq', low: 0.35, high: 0.45, value: 0.4 }] }]);
  t.same(conditions('RiskAssessment', 'probability=100')[0], { kind: 'number', params: ['RiskAssessment.probability'], values: [{ prefix: 'eq', low: 99.5, high: 100.5, value: 100 }] });
  t.same(conditions('RiskAssessment', 'probability=1e2')[0], { kind: 'number', params: ['RiskAssessment.probability'], values: [{ prefix: 'eq', low: 50, high: 150, value: 100 }] });
  t.same(conditions('RiskAssessment', 'probability=gt0.50')[0], { kind: 'number', params: ['RiskAssessment.probability'], values: [{ prefix: 'gt', low: 0.495, high: 0.505, value: 0.5 }] });
  for (const bad of ['abc', 'gt', '0.5.5', '1,x', '0x10', '{"$gt":0}']) {
    t.equal(statusOf(() => parse('RiskAssessment', `probability=${encodeURIComponent(bad)}`)), 400, `'${bad}' is a 400`);
  }
});

t.test('quantity: number|system|code, number||code', async (t) => {
  // a UCUM code with a canonical form also carries the value, prefix and range in base units (mg/dL: × 10 g/m3)
  t.same(conditions('Observation', 'value-quantity=ge100|http://unitsofmeasure.org|mg/dL'), [
    {
      kind: 'quantity',
      params: ['Observation.value-quantity'],
      values: [{ prefix: 'ge', low: 99.5, high: 100.5, value: 100, system: 'http://unitsofmeasure.org', code: 'mg/dL', canonical: { prefix: 'ge', low: 995, high: 1005, value: 1000, code: 'm-3.g' } }],
    },
  ]);
  // Cel has an offset: no canonical form, compared as written
  t.same(conditions('Observation', 'value-quantity=39|http://unitsofmeasure.org|Cel')[0], {
    kind: 'quantity', params: ['Observation.value-quantity'], values: [{ prefix: 'eq', low: 38.5, high: 39.5, value: 39, system: 'http://unitsofmeasure.org', code: 'Cel' }],
  });
  t.same(conditions('Observation', 'value-quantity=le39||Cel')[0], { kind: 'quantity', params: ['Observation.value-quantity'], values: [{ prefix: 'le', low: 38.5, high: 39.5, value: 39, code: 'Cel' }] });
  t.same(conditions('Observation', 'value-quantity=72.5')[0], { kind: 'quantity', params: ['Observation.value-quantity'], values: [{ prefix: 'eq', low: 72.45, high: 72.55, value: 72.5 }] });
  t.equal(statusOf(() => parse('Observation', 'value-quantity=72.5|http://unitsofmeasure.org')), 400, 'number|system is a 400');
});

t.test('reference: Type/id, id, :Type, absolute URLs, canonicals, :identifier', async (t) => {
  const ref = (values: unknown[], param = 'Observation.subject') => [{ kind: 'reference', params: [param], values }];
  t.same(conditions('Observation', 'subject=Patient/mueller'), ref([{ kind: 'local', type: 'Patient', id: 'mueller' }]));
  t.same(conditions('Observation', 'subject=mueller'), ref([{ kind: 'local', id: 'mueller' }]), 'several target types: no type');
  t.same(conditions('Patient', 'organization=klinikum'), ref([{ kind: 'local', type: 'Organization', id: 'klinikum' }], 'Patient.organization'), 'one target type');
  t.same(conditions('Observation', 'subject:Patient=mueller'), ref([{ kind: 'local', type: 'Patient', id: 'mueller' }]));
  t.same(conditions('Observation', 'subject=http://test.local/fhir/Patient/mueller'), ref([{ kind: 'local', type: 'Patient', id: 'mueller' }]), 'this server\'s base is stripped');
  t.same(conditions('Observation', 'subject=http://elsewhere.example/fhir/Patient/mueller'), ref([{ kind: 'url', url: 'http://elsewhere.example/fhir/Patient/mueller' }]));
  t.same(conditions('QuestionnaireResponse', 'questionnaire=http://example.org/fhir/Questionnaire/migrant-intake|2.0'), ref([{ kind: 'url', url: 'http://example.org/fhir/Questionnaire/migrant-intake', version: '2.0' }], 'QuestionnaireResponse.questionnaire'));
  t.same(conditions('MedicationRequest', 'intended-performer:identifier=http://example.org/fhir/sid/pharmacy|PH-42'), ref([{ kind: 'identifier', system: 'http://example.org/fhir/sid/pharmacy', value: 'PH-42' }], 'MedicationRequest.intended-performer'));
  t.equal(statusOf(() => parse('Observation', 'subject:Organization=1')), 400, 'a type the reference cannot point to');
  t.equal(statusOf(() => parse('Observation', 'subject:Patient=Group/1')), 400, 'a value of another type than the modifier');
  t.equal(statusOf(() => parse('Observation', `subject=${encodeURIComponent("x'); DROP TABLE sp_reference;--")}`)), 400, 'not a reference');
});

t.test('uri and :missing', async (t) => {
  t.same(conditions('ValueSet', 'url:below=http://example.org/fhir'), [{ kind: 'uriBelow', params: ['ValueSet.url'], values: ['http://example.org/fhir'] }]);
  t.same(conditions('ValueSet', 'url=urn:oid:1.2.3')[0], { kind: 'uri', params: ['ValueSet.url'], values: ['urn:oid:1.2.3'] });
  t.same(conditions('Patient', 'birthdate:missing=true&organization:missing=false'), [
    { kind: 'missing', params: ['Patient.birthdate'], table: 'date', missing: true },
    { kind: 'missing', params: ['Patient.organization'], table: 'reference', missing: false },
  ]);
  t.equal(statusOf(() => parse('Patient', 'birthdate:missing=yes')), 400);
});

t.test('_id and _lastUpdated', async (t) => {
  t.same(conditions('Patient', '_id=a,b&_id:not=c'), [{ kind: 'id', values: ['a', 'b'], not: false }, { kind: 'id', values: ['c'], not: true }]);
  t.same(conditions('Patient', '_lastUpdated=gt2024-01-01'), [{ kind: 'lastUpdated', values: [{ prefix: 'gt', low: utc(2024, 0, 1), high: utc(2024, 0, 2) }] }]);
});

t.test('chains: typed, untyped (targets defining the parameter), two levels', async (t) => {
  t.same(conditions('Observation', 'subject:Patient.name=Müller'), [
    { kind: 'chain', params: ['Observation.subject'], targetTypes: ['Patient'], condition: { kind: 'string', params: ['Patient.name'], values: ['muller'] } },
  ]);
  // subject may point to Group, Device, Patient or Location; only Patient and Location have `name`
  t.same(conditions('Observation', 'subject.name=peter'), [
    { kind: 'chain', params: ['Observation.subject'], targetTypes: ['Patient', 'Location'], condition: { kind: 'string', params: ['Patient.name', 'Location.name'], values: ['peter'] } },
  ]);
  t.same(conditions('Encounter', 'subject:Patient.organization.name=UNHCR'), [
    {
      kind: 'chain', params: ['Encounter.subject'], targetTypes: ['Patient'],
      condition: { kind: 'chain', params: ['Patient.organization'], targetTypes: ['Organization'], condition: { kind: 'string', params: ['Organization.name'], values: ['unhcr'] } },
    },
  ]);
  t.equal(statusOf(() => parse('Patient', 'gender.name=x')), 400, 'only references chain');
});

t.test('_has, nested', async (t) => {
  t.same(conditions('Patient', '_has:Observation:patient:code=http://loinc.org|8310-5'), [
    { kind: 'has', sourceType: 'Observation', params: ['Observation.patient'], condition: { kind: 'token', params: ['Observation.code'], not: false, values: [{ system: 'http://loinc.org', code: '8310-5' }] } },
  ]);
  t.same(conditions('Patient', '_has:Encounter:subject:_has:Condition:encounter:code=56717001'), [
    {
      kind: 'has', sourceType: 'Encounter', params: ['Encounter.subject'],
      condition: { kind: 'has', sourceType: 'Condition', params: ['Condition.encounter'], condition: { kind: 'token', params: ['Condition.code'], not: false, values: [{ code: '56717001' }] } },
    },
  ]);
  t.equal(statusOf(() => parse('Patient', '_has:Observation:encounter:code=x')), 400, 'the reference cannot point to Patient');
  t.equal(statusOf(() => parse('Patient', '_has:Observation:patient=x')), 400, 'malformed');
  t.equal(statusOf(() => parse('Patient', '_has:Nonsense:patient:code=x')), 400, 'unknown type');
});

t.test('composite: one tuple per value, components typed', async (t) => {
  t.same(conditions('Observation', 'component-code-value-quantity=http://loinc.org|8480-6$gt100'), [
    {
      kind: 'composite', params: ['Observation.component-code-value-quantity'],
      values: [[{ type: 'token', value: { system: 'http://loinc.org', code: '8480-6' } }, { type: 'quantity', value: { prefix: 'gt', low: 99.5, high: 100.5, value: 100 } }]],
    },
  ]);
  t.equal(statusOf(() => parse('Observation', 'component-code-value-quantity=8480-6')), 400, 'a component is missing');
});

t.test('several types: one index key per type', async (t) => {
  t.same(conditions(['Patient', 'Practitioner'], 'name=van'), [{ kind: 'string', params: ['Patient.name', 'Practitioner.name'], values: ['van'] }]);
  t.same(conditions(['Observation', 'Condition'], 'patient=Patient/x'), [
    { kind: 'reference', params: ['Observation.patient', 'Condition.patient'], values: [{ kind: 'local', type: 'Patient', id: 'x' }] },
  ]);
});

t.test('result parameters: _sort, _count, _total, _include, _revinclude', async (t) => {
  const { query, applied } = parse('Patient', '_sort=-birthdate,family,_id&_count=500&_total=accurate&gender=female');
  t.same(query.sort, [
    { params: ['Patient.birthdate'], table: 'date', descending: true },
    { params: ['Patient.family'], table: 'string', descending: false },
    { params: ['_id'], descending: false },
  ]);
  t.equal(query.count, 100, '_count is capped at the maximum');
  t.equal(query.total, 'accurate');
  t.same(applied, [['_sort', '-birthdate,family,_id'], ['_count', '100'], ['_total', 'accurate'], ['gender', 'female']], 'the self link gets the applied values');
  t.equal(parse('Patient', '').query.count, 20, 'the default page size');

  const inc = parse('Observation', '_include=Observation:subject:Patient&_include:iterate=Patient:organization&_revinclude=Provenance:target&_include=*').query;
  t.same(inc.include, [
    { sourceType: 'Observation', param: 'Observation.subject', targetType: 'Patient', iterate: false },
    { sourceType: '*', param: '*', iterate: false },
    { sourceType: 'Patient', param: 'Patient.organization', iterate: true },
  ]);
  t.same(inc.revinclude, [{ sourceType: 'Provenance', param: 'Provenance.target', iterate: false }]);
  t.equal(statusOf(() => parse('Patient', '_include=Observation:subject')), 400, '_include from another type needs :iterate');
  t.equal(statusOf(() => parse('Observation', '_include=Observation:status')), 400, 'not a reference parameter');
  t.same(parse('Observation', '_sort=-subject').query.sort, [{ params: ['Observation.subject'], table: 'reference', descending: true }], 'sorting on a reference');
  for (const bad of ['_count=-1', '_count=ten', '_total=maybe']) t.equal(statusOf(() => parse('Patient', bad)), 400, bad);
});

t.test('lenient and strict handling of what the server does not support', async (t) => {
  const lenient = parse('Patient', 'gender=female&shoe-size=42&_text=cough&_sort=shoe-size&_filter=x');
  t.same(lenient.query.conditions, [{ kind: 'token', params: ['Patient.gender'], not: false, values: [{ code: 'female' }] }]);
  t.same(lenient.ignored.map((i) => i.name).sort(), ['_filter', '_sort', '_text', 'shoe-size']);
  t.same(lenient.query.sort, [], 'the unknown sort key leaves the order alone');
  t.same(lenient.applied, [['gender', 'female']], 'ignored parameters are not applied');
  t.same(parse('Location', 'near=35.5|12.6|10|km').ignored.map((i) => i.name), ['near'], 'special parameters are ignored');
  for (const qs of ['shoe-size=42', '_text=cough', '_sort=shoe-size', 'near=35.5|12.6|10|km']) {
    const type = qs.startsWith('near') ? 'Location' : 'Patient';
    let err: unknown;
    try {
      parse(type, qs, true);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof FhirError && err.status === 400, `strict: ${qs} is a 400`);
    t.match(JSON.stringify((err as FhirError).outcome), qs.split('=')[0].replace('_sort', 'shoe-size'), 'the outcome names the parameter');
  }
  t.equal(statusOf(() => parse('Patient', 'name:sounds-like=x')), 400, 'an unknown modifier is an error even when lenient');
  t.equal(statusOf(() => parse('Patient', 'gender=female,')), 400, 'an empty value');
});

t.test('values R4 search calls invalid are 400, valid edges pass', async (t) => {
  const cases: [string, string, number | undefined][] = [
    ['Patient', 'birthdate=2020-01-01T00:00:00+25:00', 400],
    ['Patient', 'birthdate=2020-01-01T00:00:00+14:30', 400],
    ['Patient', 'birthdate=2020-01-01T00:00:00+14:00', undefined],
    ['Patient', 'birthdate=2020-01-01T00:00:00-12:00', undefined],
    ['Patient', 'birthdate=2020-01-01T24:00:00Z', 400],
    ['Patient', 'birthdate=2020-01-01T10:60:00Z', 400],
    ['Patient', 'birthdate=2016-12-31T23:59:60Z', undefined],
    ['Patient', 'birthdate=2020-01-01T10:00:61Z', 400],
    ['RiskAssessment', 'probability=1e999999', 400],
    ['RiskAssessment', `probability=${'9'.repeat(400)}`, 400],
    ['RiskAssessment', 'probability=1e300', undefined],
    ['Observation', 'value-quantity=5.4|a|b|c', 400],
    ['Observation', 'value-quantity=5.4e99999||mg', 400],
    ['Observation', 'value-quantity=5.4|http://unitsofmeasure.org|mg', undefined],
    ['Patient', '_id=p1%00', 400],
  ];
  for (const [type, qs, expected] of cases) t.equal(statusOf(() => parse(type, qs.replace('+', '%2B').replace('%00', '\u0000'))), expected, `${type}?${qs}`);
});

t.test('search size: values over all parameters and parameters, with escaped commas not counted', async (t) => {
  const values = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`).join(',');
  t.equal(statusOf(() => parse('Patient', `name=${values(500)}`)), undefined, '500 values');
  t.equal(statusOf(() => parse('Patient', `name=${values(250)}&family=${values(251)}`)), 400, '501 over two parameters');
  t.equal(statusOf(() => parse('Patient', `name=${Array.from({ length: 600 }, () => 'a\\,b').join('\\,')}`)), undefined, 'escaped commas are one value');
  t.equal(statusOf(() => parse('Patient', Array.from({ length: 100 }, () => 'name=a').join('&'))), undefined, '100 parameters');
  t.equal(statusOf(() => parse('Patient', `${Array.from({ length: 99 }, () => 'name=a').join('&')}&_sort=name,birthdate`)), 400, '99 parameters and 2 sort keys');
  t.equal(statusOf(() => parse('Patient', `name=a&${Array.from({ length: 100 }, () => '_include=Patient:organization').join('&')}`)), 400, '_include counts');
  t.equal(statusOf(() => parse('Patient', `_count=5&_elements=${values(5000)}`)), undefined, '_elements and _count do not count');
});

t.test('each type accepts its modifiers (search.html#modifiers) and refuses the rest with one 400, lenient or strict', async (t) => {
  const accepted: Record<string, [string, string, string[]]> = {
    string: ['Patient', 'family', ['missing', 'exact', 'contains']],
    token: ['Patient', 'gender', ['missing', 'not', 'text', 'of-type', 'in', 'not-in', 'below', 'above']],
    date: ['Patient', 'birthdate', ['missing']],
    number: ['RiskAssessment', 'probability', ['missing']],
    quantity: ['Observation', 'value-quantity', ['missing']],
    uri: ['ValueSet', 'url', ['missing', 'above', 'below']],
    reference: ['Observation', 'subject', ['missing', 'identifier', 'Patient']],
    composite: ['Observation', 'component-code-value-quantity', []],
  };
  const modifiers = ['missing', 'exact', 'contains', 'text', 'not', 'above', 'below', 'in', 'not-in', 'of-type', 'identifier', 'Patient', 'sounds-like'];
  for (const [type, [resource, code, accepts]] of Object.entries(accepted)) {
    for (const modifier of modifiers) {
      for (const strict of [false, true]) {
        let message = '';
        try {
          parse(resource, `${code}:${modifier}=true`, strict);
        } catch (err) {
          message = err instanceof FhirError ? JSON.stringify(err.outcome) : String(err);
        }
        const refused = message.includes(`Modifier :${modifier} is not supported on ${type} parameter '${code}'`);
        t.equal(refused, !accepts.includes(modifier), `${resource}?${code}:${modifier} (${strict ? 'strict' : 'lenient'})`);
      }
    }
  }
});
