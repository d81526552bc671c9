// Issue #14, leak 2: text and formats generated from stored data ($summary narrative, national
// and HL7 v2 exports, $validate of a stored resource) are built from the view the client may
// see. Client X: system/*.cruds without the migration-data scope; Y: with it; Z: system/Patient.rs.
// Both engines: the compartment reads of $summary are searches.
import t from 'tap';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';

const SD = 'https://migfhir.org/fhir/StructureDefinition';
const PESEL = 'urn:oid:2.16.840.1.113883.3.4424.1.1.616';
const ALL = 'system/*.cruds migfhir/migration-data.read';

const patient = {
  resourceType: 'Patient', id: 'p1', name: [{ family: 'Kovalenko', given: ['Olena'] }], gender: 'female', birthDate: '1988-02-03',
  identifier: [{ system: PESEL, value: '88020312345' }],
  communication: [{ language: { coding: [{ system: 'urn:ietf:bcp:47', code: 'uk' }], text: 'Ukrainian' }, preferred: true }],
  extension: [
    { url: `${SD}/migration-status`, extension: [
      { url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'temporary-protection' }], text: 'temporary protection' } },
      { url: 'grantingCountry', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'PL' }] } },
    ] },
    { url: `${SD}/migration-journey`, extension: [
      { url: 'countryOfOrigin', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'UA' }] } },
      { url: 'transit', extension: [{ url: 'country', valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'MD' }] } }] },
    ] },
  ],
};
const condition = {
  resourceType: 'Condition', id: 'c1', subject: { reference: 'Patient/p1' },
  clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
  code: { coding: [{ system: 'http://snomed.info/sct', code: '44054006', display: 'Diabetes mellitus type 2' }] },
};

const engines: [string, () => ResourceStore][] = [['SQLite', () => new SqliteStore({ path: ':memory:' })], ['MongoDB compiler on mingo', () => new MingoSearchStore()]];

for (const [engine, store] of engines) {
  t.test(`${engine}: generated text is built from the client's view`, async (t) => {
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: ALL }, { store: store() });
    const [x, y, z] = [await bearer('system/*.cruds'), await bearer(ALL), await bearer('system/Patient.rs')];
    t.equal((await fhir(app, 'PUT', '/fhir/Patient/p1', patient, y)).status, 201);
    t.equal((await fhir(app, 'PUT', '/fhir/Condition/c1', condition, y)).status, 201);

    const leaks = (text: string) => ['temporary', 'Migration status', 'Country of origin', 'transit', 'UA', 'MD'].filter((s) => text.includes(s));
    const composition = (doc: any) => doc.entry[0].resource;
    const migrationSection = (doc: any) => composition(doc).section.find((s: any) => s.code.coding[0].code === 'migration-context');

    const full = await fhir(app, 'GET', '/fhir/Patient/p1/$summary', undefined, y);
    t.equal(full.status, 200);
    t.match(migrationSection(full.body).text.div, /Migration status: temporary protection in PL/, 'Y reads the migration status in the narrative');
    t.match(migrationSection(full.body).text.div, /Country of origin: UA/);

    for (const [who, auth] of [['X', x], ['Z', z]] as const) {
      const res = await fhir(app, 'GET', '/fhir/Patient/p1/$summary', undefined, auth);
      t.equal(res.status, 200, `${who} gets a summary`);
      t.same(leaks(res.raw), [], `${who}: nothing of the migration status or journey anywhere in the document`);
      t.match(migrationSection(res.body).text.div, /Languages: Ukrainian \(preferred\)/, `${who}: what it may see is still summarised`);
      const p = res.body.entry.find((e: any) => e.resource.resourceType === 'Patient').resource;
      t.notOk(p.meta?.security, `${who}: the patient entry carries no label, REDACTED included`);
      t.match(res.headers['x-sensitive-data'], /^withheld/, `${who}: the answer carries the notice`);
    }
    const byX = (await fhir(app, 'GET', '/fhir/Patient/p1/$summary', undefined, x)).body;
    t.ok(byX.entry.some((e: any) => e.resource.resourceType === 'Condition'), 'X may read Conditions: the problem is in its summary');
    const byZ = (await fhir(app, 'GET', '/fhir/Patient/p1/$summary', undefined, z)).body;
    t.same([...new Set(byZ.entry.map((e: any) => e.resource.resourceType))].sort(), ['Composition', 'Device', 'Patient'], 'Z (Patient only) gets no resource of a type it may not read');
    t.notOk(JSON.stringify(composition(byZ)).includes('Diabetes'), 'nor their text in the narrative');

    // national export: the Polish profile marks the PESEL of a person under temporary protection
    const plFull = await fhir(app, 'GET', '/fhir/Patient/p1/$export-national?adapter=pl', undefined, y);
    t.equal(plFull.status, 200);
    t.match(plFull.raw, /pesel-status[^}]*"UKR"/, 'Y: the PESEL carries the UKR status');
    const plX = await fhir(app, 'GET', '/fhir/Patient/p1/$export-national?adapter=pl', undefined, x);
    t.equal(plX.status, 200);
    t.notOk(plX.raw.includes('UKR'), 'X: the status is not re-encoded as a PESEL marker');
    t.notOk(plX.raw.includes('temporary-protection'));

    // HL7 v2: the message carries nothing X may not see
    const v2 = await app.inject({ method: 'GET', url: '/fhir/Patient/p1/$hl7v2-export', headers: x });
    t.equal(v2.statusCode, 200);
    t.same(leaks(v2.body).filter((s) => s !== 'UA' && s !== 'MD'), [], 'X: no migration status in the ADT message');

    // $validate of the stored resource validates (and quotes) only the view
    const validated = await fhir(app, 'GET', '/fhir/Patient/p1/$validate', undefined, x);
    t.equal(validated.status, 200);
    t.same(leaks(JSON.stringify(validated.body.issue.map((i: any) => i.diagnostics))).filter((s) => s !== 'UA' && s !== 'MD'), []);
    t.ok(validated.body.issue.some((i: any) => i.code === 'suppressed'), 'X is told that withheld elements were not validated');
    const validatedY = await fhir(app, 'GET', '/fhir/Patient/p1/$validate', undefined, y);
    t.notOk(validatedY.body.issue.some((i: any) => i.code === 'suppressed'), 'Y validates the whole resource');
  });
}
