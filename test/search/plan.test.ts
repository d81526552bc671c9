// Query plans of the SQLite compiler (EXPLAIN QUERY PLAN) on a store holding a few thousand
// generated resources: every kind of search reaches the index tables through their indexes (no
// SCAN of an sp_* table or of resource), selective searches start from the index rows rather
// than from every resource of the type, date ranges seek on (param, low) or (param, high), and
// chains, _has and _sort look rows up by target or by rid. The store keeps no table statistics
// (no ANALYZE), so these plans must come from the SQL's shape alone.
import t from 'tap';
import { testApp, fhir } from '../helpers/app.ts';
import type { Condition, SearchQuery } from '../../src/search/ir.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';

const PATIENTS = 2000;
const OBSERVATIONS = 4000;
const ENCOUNTERS = 1000;
const ORGANIZATIONS = 100;

function generated(): { resourceType: string; id: string; [k: string]: unknown }[] {
  const out: { resourceType: string; id: string; [k: string]: unknown }[] = [];
  for (let i = 0; i < ORGANIZATIONS; i++) {
    out.push({ resourceType: 'Organization', id: `org-${i}`, name: `Org ${i}`, ...(i ? { partOf: { reference: `Organization/org-${i - 1}` } } : {}) });
  }
  for (let i = 0; i < PATIENTS; i++) {
    out.push({
      resourceType: 'Patient',
      id: `p-${i}`,
      name: [{ family: `Family${i % 300}`, given: [`Given${i}`] }],
      gender: i % 2 ? 'male' : 'female',
      birthDate: `${1940 + (i % 70)}-0${1 + (i % 9)}-1${i % 10}`,
      identifier: [{ system: 'urn:sys', value: `id-${i}` }],
      managingOrganization: { reference: `Organization/org-${i % ORGANIZATIONS}` },
    });
  }
  for (let i = 0; i < OBSERVATIONS; i++) {
    out.push({
      resourceType: 'Observation',
      id: `o-${i}`,
      status: i % 10 ? 'final' : 'preliminary',
      code: { coding: [{ system: 'http://loinc.org', code: `code-${i % 50}` }] },
      subject: { reference: `Patient/p-${i % PATIENTS}` },
      effectiveDateTime: `20${10 + (i % 14)}-0${1 + (i % 9)}-1${i % 10}T10:00:00Z`,
      valueQuantity: { value: i % 200, unit: 'kg', system: 'http://unitsofmeasure.org', code: 'kg' },
    });
  }
  for (let i = 0; i < ENCOUNTERS; i++) {
    out.push({
      resourceType: 'Encounter',
      id: `e-${i}`,
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: `Patient/p-${i}` },
      serviceProvider: { reference: `Organization/org-${i % ORGANIZATIONS}` },
      period: { start: `20${10 + (i % 14)}-01-01`, end: `20${10 + (i % 14)}-01-02` },
    });
  }
  for (let i = 0; i < 200; i++) {
    out.push({ resourceType: 'RiskAssessment', id: `ra-${i}`, status: 'final', subject: { reference: `Patient/p-${i}` }, prediction: [{ probabilityDecimal: i / 200 }] });
  }
  for (let i = 0; i < 50; i++) out.push({ resourceType: 'ValueSet', id: `vs-${i}`, status: 'active', url: `http://example.org/fhir/ValueSet/vs-${i}` });
  // canonical references and references by identifier only (the partial reference indexes)
  for (let i = 0; i < 20; i++) {
    out.push({ resourceType: 'QuestionnaireResponse', id: `qr-${i}`, status: 'completed', questionnaire: `http://example.org/fhir/Questionnaire/q-${i % 5}`, subject: { identifier: { system: 'urn:sys', value: `id-${i}` } } });
  }
  return out;
}

const app = await testApp();
t.teardown(() => app.close());
const all = generated();
for (let k = 0; k < all.length; k += 500) {
  const entry = all.slice(k, k + 500).map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } }));
  const res = await fhir(app, 'POST', '/fhir', { resourceType: 'Bundle', type: 'transaction', entry });
  if (res.status !== 200) throw new Error(`loading: ${res.status} ${res.raw.slice(0, 300)}`);
}
const store = app.fhir.repo.store;
if (!(store instanceof SqliteStore)) throw new Error('the test app runs on SQLite');

function query(types: string[], qs: string, extra: Condition[] = []): SearchQuery {
  const q: Record<string, string[]> = {};
  for (const [k, v] of new URLSearchParams(qs)) (q[k] ??= []).push(v);
  const parsed = app.fhir.searchParser.parse({ types, query: q, baseUrl: 'http://test.local/fhir', strict: true, count: { default: 20, max: 1000 } });
  parsed.query.conditions.push(...extra);
  return parsed.query;
}

interface Check {
  name: string;
  types: string[];
  qs: string;
  extra?: Condition[];
  /** each must match some plan line */
  uses: RegExp[];
  /** the search starts from index rows: resource rows are reached by rid or by (type, id) */
  selective?: boolean;
  /** matches with _total=accurate, worked out from generated() */
  total?: number;
  /** none may match a plan line */
  avoids?: RegExp[];
  /** the page is read in its own order (no temporary sort) */
  inOrder?: boolean;
}

const rid = (alias: string) => new RegExp(`^SEARCH ${alias} USING INTEGER PRIMARY KEY \\(rowid=\\?\\)$`);
const compartment = (params: string[], targetType: string, targetId: string): Condition => ({ kind: 'compartment', params, targetType, targetId });

const CHECKS: Check[] = [
  { name: 'token system|code', types: ['Patient'], qs: 'identifier=urn:sys|id-5', uses: [/sp_token_value \(param=\? AND code=\? AND system=\?\)/, rid('r')], selective: true, total: 1 },
  // code-5: o-5, o-55, … one Observation in 50
  { name: 'token code', types: ['Observation'], qs: 'code=code-5', uses: [/sp_token_value \(param=\? AND code=\?\)/], selective: true, total: OBSERVATIONS / 50 },
  // values with systems: each seeks (param, code, system); the param test alone would read every identifier
  { name: 'token OR with systems', types: ['Patient'], qs: 'identifier=urn:sys|id-5,urn:sys|id-6,urn:other|id-7', uses: [/MULTI-INDEX OR/, /sp_token_value \(param=\? AND code=\? AND system=\?\)/], selective: true, total: 2 },
  { name: 'token OR', types: ['Observation'], qs: 'code=code-5,code-6', uses: [/sp_token_value \(param=\? AND code=\?\)/], selective: true, total: (2 * OBSERVATIONS) / 50 },
  // family1, family10-19, family100-199 (111 of the 300 families, each below 200, so 7 patients each)
  { name: 'string prefix', types: ['Patient'], qs: 'family=family1', uses: [/sp_string_value \(param=\? AND norm>\? AND norm<\?\)/], selective: true, total: 111 * 7 },
  { name: 'string :exact', types: ['Patient'], qs: 'family:exact=Family17', uses: [/sp_string_value \(param=\? AND norm=\?\)/], selective: true, total: 7 },
  { name: 'date eq', types: ['Observation'], qs: 'date=2015-03-13', uses: [/sp_date_low \(param=\? AND low>\? AND low<\?\)/], selective: true },
  // both bounds are applied to one index row: one range scan on either date index
  { name: 'date ge and le', types: ['Observation'], qs: 'date=ge2015-01-01&date=le2015-02-01', uses: [/sp_date_(high|low) \(param=\? AND (high>|low<)\?\)/], selective: true },
  { name: 'date gt', types: ['Observation'], qs: 'date=gt2022', uses: [/sp_date_high \(param=\? AND high>\?\)/], selective: true },
  { name: 'date lt', types: ['Patient'], qs: 'birthdate=lt1950', uses: [/sp_date_low \(param=\? AND low<\?\)/], selective: true },
  { name: 'Period overlap', types: ['Encounter'], qs: 'date=ge2015-01-01&date=le2015-01-01', uses: [/sp_date_(low|high) \(param=\? AND (low<|high>)\?\)/], selective: true },
  // probabilities i/200: above 0.9 are 181/200 … 199/200
  { name: 'number', types: ['RiskAssessment'], qs: 'probability=gt0.9', uses: [/sp_number_value \(param=\? AND value>\?\)/], selective: true, total: 19 },
  { name: 'quantity', types: ['Observation'], qs: 'value-quantity=gt150||kg', uses: [/sp_quantity_value \(param=\? AND value>\?\)/], selective: true },
  // UCUM canonical form (value i % 200 kg): the partial index on (param, canon_code, canon_value); 151…199 kg, 20 each
  { name: 'quantity in canonical units', types: ['Observation'], qs: 'value-quantity=gt150000|http://unitsofmeasure.org|g', uses: [/sp_quantity_canonical \(param=\? AND canon_code=\? AND canon_value>\?\)/], selective: true, total: 49 * 20 },
  // 0.15 t is [0.145, 0.155) t = [145000, 155000) g: 145…154 kg
  { name: 'quantity eq in canonical units', types: ['Observation'], qs: 'value-quantity=0.15|http://unitsofmeasure.org|t', uses: [/sp_quantity_canonical \(param=\? AND canon_code=\? AND canon_value>\? AND canon_value<\?\)/], selective: true, total: 10 * 20 },
  // each value seeks its own index: canonical (UCUM kg) and as written (no system); 150 and 191…199 kg
  {
    name: 'quantity OR, canonical and as written',
    types: ['Observation'],
    qs: 'value-quantity=150|http://unitsofmeasure.org|kg,gt190||kg',
    uses: [/MULTI-INDEX OR/, /sp_quantity_canonical \(param=\? AND canon_code=\? AND canon_value>\? AND canon_value<\?\)/, /sp_quantity_value \(param=\? AND value>\?\)/],
    selective: true,
    total: 10 * 20,
  },
  // code-5 is o-5, o-55, …: values 5, 55, 105, 155 kg, one in four above 150
  { name: 'composite in canonical units', types: ['Observation'], qs: 'code-value-quantity=http://loinc.org|code-5$gt150000|http://unitsofmeasure.org|g', uses: [/sp_composite_value \(param=\? AND comp=\? AND code=\?\)/], selective: true, total: 20 },
  { name: 'uri', types: ['ValueSet'], qs: 'url=http://example.org/fhir/ValueSet/vs-5', uses: [/sp_uri_value \(param=\? AND uri=\?\)/], selective: true, total: 1 },
  { name: 'uri :below', types: ['ValueSet'], qs: 'url:below=http://example.org/fhir/ValueSet/vs-1', uses: [/sp_uri_value \(param=\? AND uri>\? AND uri<\?\)/], selective: true, total: 11 },
  // p-5's observations: o-5, o-2005
  { name: 'reference', types: ['Observation'], qs: 'subject=Patient/p-5', uses: [/sp_reference_target_param \(target_id=\? AND target_type=\? AND param=\?\)/], selective: true, total: 2 },
  {
    name: 'chain',
    types: ['Observation'],
    qs: 'subject:Patient.identifier=urn:sys|id-5',
    uses: [/sp_token_value \(param=\? AND code=\? AND system=\?\)/, rid('t\\d+'), /SEARCH c\d+ USING COVERING INDEX sp_reference_target_param \(target_id=\? AND target_type=\? AND param=\?\)/],
    selective: true,
    total: 2,
  },
  {
    name: 'chain, two levels',
    types: ['Encounter'],
    qs: 'subject.organization.name=org 5',
    uses: [/sp_string_value \(param=\? AND norm>\? AND norm<\?\)/, /SEARCH c\d+ USING COVERING INDEX sp_reference_target_param \(target_id=\? AND target_type=\? AND param=\?\)/],
    selective: true,
  },
  {
    name: '_has',
    types: ['Patient'],
    qs: '_has:Observation:subject:code=code-5',
    uses: [/^SEARCH r USING INDEX sqlite_autoindex_resource_1 \(resource_type=\? AND id=\?\)$/, rid('s\\d+'), /SEARCH h\d+ USING PRIMARY KEY \(rid=\?\)/, /sp_token_value \(param=\? AND code=\?\)/],
    selective: true,
  },
  {
    name: 'nested _has',
    types: ['Organization'],
    qs: '_has:Patient:organization:_has:Observation:subject:code=code-5',
    uses: [/sp_token_value \(param=\? AND code=\?\)/, /SEARCH h\d+ USING PRIMARY KEY \(rid=\?\)/],
    selective: true,
  },
  {
    name: 'compartment',
    types: ['Observation'],
    qs: '',
    extra: [compartment(['Observation.subject', 'Observation.performer'], 'Patient', 'p-5')],
    uses: [/sp_reference_target_param \(target_id=\? AND target_type=\? AND param=\?\)/],
    selective: true,
    total: 2,
  },
  { name: 'canonical reference', types: ['QuestionnaireResponse'], qs: 'questionnaire=http://example.org/fhir/Questionnaire/q-1', uses: [/sp_reference_url_given \(param=\? AND url=\?\)/], selective: true, total: 4 },
  { name: 'reference :identifier', types: ['QuestionnaireResponse'], qs: 'subject:identifier=urn:sys|id-3', uses: [/sp_reference_identifier \(param=\? AND identifier_value=\?\)/], selective: true, total: 1 },
  { name: '_id', types: ['Patient'], qs: '_id=p-1,p-2', uses: [/^SEARCH r USING INDEX sqlite_autoindex_resource_1 \(resource_type=\? AND id=\?\)$/], selective: true, total: 2 },
  { name: '_lastUpdated', types: ['Patient'], qs: '_lastUpdated=gt2000-01-01', uses: [/resource_type_updated \(resource_type=\? AND last_updated>\?\)/], total: PATIENTS },
  { name: '_sort on a date', types: ['Patient'], qs: 'gender=female&_sort=birthdate', uses: [/SEARCH o\d+ USING PRIMARY KEY \(rid=\?\)/], selective: true, total: PATIENTS / 2 },
  { name: '_sort on a string', types: ['Patient'], qs: '_sort=-family', uses: [/SEARCH o\d+ USING PRIMARY KEY \(rid=\?\)/] },
  { name: '_sort on a token', types: ['Observation'], qs: 'subject=Patient/p-5&_sort=code', uses: [/SEARCH o\d+ USING PRIMARY KEY \(rid=\?\)/], selective: true },
  { name: ':missing=true', types: ['Patient'], qs: 'birthdate:missing=true', uses: [/sp_date_(low|high)|sp_date_rid/], total: 0 },
  // most resources have the value: the type in page order, each row's own index rows by rid
  { name: ':missing=false', types: ['Patient'], qs: 'birthdate:missing=false', uses: [/SEARCH i\d+ (EXISTS )?USING PRIMARY KEY \(rid=\?\)/], avoids: [/sp_date_(low|high)/], inOrder: true, total: PATIENTS },
  // Patient-level Bulk export's compartment test: the reference index leads with the target, so a set of every row of the params would scan it whole per page
  { name: ':missing=false on references', types: ['Observation'], qs: 'subject:missing=false', uses: [/SEARCH i\d+ (EXISTS )?USING PRIMARY KEY \(rid=\?\)/], avoids: [/sp_reference_target_param/], inOrder: true, total: OBSERVATIONS },
  {
    // Group and Patient-level Bulk export: a chunk of patients' compartments, one seek per patient
    name: 'compartments of several patients',
    types: ['Observation'],
    qs: '',
    extra: [{ kind: 'any', conditions: ['p-5', 'p-6', 'p-7'].map((id) => compartment(['Observation.subject', 'Observation.performer'], 'Patient', id)) }],
    uses: [/sp_reference_target_param \(target_id=\? AND target_type=\? AND param=\?\)/],
    selective: true,
    total: 6,
  },
  // status is preliminary for one Observation in 10
  // :not on a page: each candidate's own index rows by the clustered key, never the set of every row the value matches
  { name: ':not', types: ['Observation'], qs: 'status:not=final', uses: [/SEARCH i\d+ USING PRIMARY KEY \(rid=\?\)/], avoids: [/sp_token_value/], total: OBSERVATIONS / 10 },
  { name: ':not with a selective condition', types: ['Observation'], qs: 'subject=Patient/p-5&status:not=preliminary', uses: [/sp_reference_target_param/, /SEARCH i\d+ USING PRIMARY KEY \(rid=\?\)/], avoids: [/sp_token_value/], selective: true },
  // a type's pages without _sort (Bulk export, paging a whole type): the type's rows in rid order,
  // stopped at the page size — neither every row of the type read nor a sort
  { name: 'a type, unsorted', types: ['Observation'], qs: '', uses: [/^SEARCH r USING (COVERING )?INDEX resource_type_rid \(resource_type=\?\)$/], inOrder: true, total: OBSERVATIONS },
  { name: 'two types', types: ['Patient', 'Organization'], qs: 'name=org 1', uses: [/sp_string_value \(param IN \(\?,\?\) AND norm>\? AND norm<\?\)|sp_string_value \(param=\? AND norm>\? AND norm<\?\)/], selective: true, total: 11 },
];

for (const c of CHECKS) {
  t.test(`${c.name}: ${c.types.join(',')}?${c.qs}`, async (t) => {
    const q = query(c.types, c.qs, c.extra);
    const plan = store.explain(q);
    t.ok(plan.length > 0, 'a plan', { plan });
    for (const line of plan) {
      // the page's own subquery (m) is the only thing scanned
      if (line.startsWith('SCAN ')) t.equal(line, 'SCAN m', 'no table or index is scanned', { plan });
    }
    for (const re of c.uses) t.ok(plan.some((l) => re.test(l)), `uses ${re}`, { plan });
    for (const re of c.avoids ?? []) t.notOk(plan.some((l) => re.test(l)), `does not use ${re}`, { plan });
    if (c.selective) {
      t.notOk(plan.some((l) => /^SEARCH [rts]\d* USING (COVERING )?INDEX resource_type_(updated|rid) \(resource_type=\?\)$/.test(l)), 'does not read every resource of the type', { plan });
    }
    if (c.inOrder) t.notOk(plan.some((l) => /TEMP B-TREE/.test(l)), 'the page is read in its order, not sorted', { plan });
    if (c.total !== undefined) {
      const result = await store.search({ ...q, total: 'accurate', count: 1 });
      t.equal(result.total, c.total, 'the search finds what the data holds');
    }
  });
}

t.test('the page size is written into the SQL (a bound LIMIT measured ~4x slower per lookup); every request value stays bound', async (t) => {
  const { compileSearch } = await import('../../src/search/sqlite.ts');
  const q = query(['Patient'], 'identifier=urn:sys|id-5');
  const { page } = compileSearch({ ...q, count: 20 }, () => 1);
  t.match(page.sql, /ORDER BY rid ASC LIMIT 21\)/);
  t.notOk(page.args.includes(21), 'the limit is not a bound argument');
  t.ok(page.args.includes('id-5') && page.args.includes('urn:sys'), 'the search values are bound');
  t.throws(() => compileSearch({ ...q, count: 1.5 }, () => 1), /not a count/);
  const found = await store.search({ ...q, count: 20 });
  t.equal(found.matches.length, 1, 'the search still finds the patient');
});
