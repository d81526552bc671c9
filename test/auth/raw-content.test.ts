// Issue #14, leak 4: raw content. A Binary, an attachment or a stored document Bundle holding a
// FHIR resource with migration data is labelled on write and redacted for a client without the
// migration-data scope (X); the scope (Y) sees it whole. Both engines.
import t from 'tap';
import { fhir } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { MingoSearchStore } from '../helpers/mingo-store.ts';
import { SqliteStore } from '../../src/store/sqlite/index.ts';
import type { ResourceStore } from '../../src/store/types.ts';

const STATUS = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
const ALL = 'system/*.cruds migfhir/migration-data.read';
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64');
const unb64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
const inner = {
  resourceType: 'Patient', id: 'x1', name: [{ family: 'Haddad' }],
  extension: [{ url: STATUS, extension: [{ url: 'status', valueCodeableConcept: { coding: [{ system: 'https://migfhir.org/fhir/CodeSystem/migration-status', code: 'irregular' }] } }] }],
};
const labelled = (r: any) => !!r.meta?.security?.some((s: any) => s.code === 'migration');
/** redacted content carries neither the labels nor a REDACTED marker (src/auth/sensitive.ts) */
const showsNoLabel = (r: any) => !r.meta?.security?.some((s: any) => s.code === 'REDACTED' || s.system === 'https://migfhir.org/fhir/CodeSystem/sensitivity' || s.code === 'R');

const engines: [string, () => ResourceStore][] = [['SQLite', () => new SqliteStore({ path: ':memory:' })], ['MongoDB compiler on mingo', () => new MingoSearchStore()]];

for (const [engine, store] of engines) {
  t.test(`${engine}: raw content with migration data is labelled and redacted`, async (t) => {
    const { app, bearer } = await authorizedApp(t, { id: 'c', scope: ALL }, { store: store() });
    const [x, y] = [await bearer('system/*.cruds'), await bearer(ALL)];
    const put = async (r: any) => {
      const res = await fhir(app, 'PUT', `/fhir/${r.resourceType}/${r.id}`, r, y);
      t.equal(res.status, 201, `${r.resourceType}/${r.id} stored`, { body: res.body });
      return res.body;
    };

    // a Binary of FHIR JSON
    t.ok(labelled(await put({ resourceType: 'Binary', id: 'b1', contentType: 'application/fhir+json', data: b64(inner) })), 'the Binary is labelled on write');
    const bY = (await fhir(app, 'GET', '/fhir/Binary/b1', undefined, y)).body;
    t.same(JSON.parse(unb64(bY.data)), inner, 'Y gets the content whole');
    const bX = (await fhir(app, 'GET', '/fhir/Binary/b1', undefined, x)).body;
    t.ok(showsNoLabel(bX), 'X: the Binary shows no label');
    const seen = JSON.parse(unb64(bX.data));
    t.equal(seen.name[0].family, 'Haddad', 'X: the rest of the embedded resource stays');
    t.notOk(unb64(bX.data).includes('irregular'), 'X: the migration status is gone from the content');
    t.ok(showsNoLabel(seen), 'X: nor does the embedded resource');
    const found = await fhir(app, 'GET', '/fhir/Binary?_id=b1', undefined, x);
    t.notOk(unb64(found.body.entry[0].resource.data).includes('irregular'), 'X: search results too');
    t.ok(labelled(await put({ resourceType: 'Binary', id: 'b0', contentType: 'application/json; charset=utf-8', data: b64(inner) })), 'application/json is read as FHIR JSON too');
    t.notOk(labelled(await put({ resourceType: 'Binary', id: 'b2', contentType: 'application/fhir+json', data: b64({ resourceType: 'Patient', id: 'x2' }) })), 'content without migration data: no label');
    t.notOk(labelled(await put({ resourceType: 'Binary', id: 'b3', contentType: 'application/pdf', data: b64('%PDF-1.7 migration-status') })), 'other content types are not read');

    // XML is searched as text and, since it cannot be redacted element by element, withheld
    const xml = `<Patient xmlns="http://hl7.org/fhir"><extension url="${STATUS}"><extension url="status"><valueCodeableConcept><text value="irregular"/></valueCodeableConcept></extension></extension></Patient>`;
    t.ok(labelled(await put({ resourceType: 'Binary', id: 'bx', contentType: 'application/fhir+xml', data: b64(xml) })), 'FHIR XML naming a sensitive extension is labelled');
    const xX = (await fhir(app, 'GET', '/fhir/Binary/bx', undefined, x)).body;
    t.equal(xX.data, undefined, 'X: its data is withheld');
    t.equal(xX.contentType, 'application/fhir+xml');
    t.ok(showsNoLabel(xX));
    t.equal(unb64((await fhir(app, 'GET', '/fhir/Binary/bx', undefined, y)).body.data), xml, 'Y gets it whole');

    // a DocumentReference attachment: size follows the redacted content, the original's hash goes
    const data = b64(inner);
    await put({ resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: { reference: 'Patient/x1' }, content: [{ attachment: { contentType: 'application/fhir+json', data, size: Buffer.from(data, 'base64').length, hash: 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=', title: 'registration record' } }] });
    const dX = (await fhir(app, 'GET', '/fhir/DocumentReference/d1', undefined, x)).body;
    const att = dX.content[0].attachment;
    t.notOk(unb64(att.data).includes('irregular'), 'X: the attachment is redacted');
    t.equal(att.size, Buffer.from(att.data, 'base64').length, 'X: size is that of what it gets');
    t.equal(att.hash, undefined, 'X: no hash of the withheld original');
    t.equal(att.title, 'registration record');
    t.ok((await fhir(app, 'GET', '/fhir/DocumentReference/d1', undefined, y)).body.content[0].attachment.hash, 'Y: the attachment as stored');

    // a document Bundle stored as a resource
    const patientUrl = 'urn:uuid:0d5a1b3c-7a52-4a8f-9a47-6d1b6c7e0f11';
    const comp = { resourceType: 'Composition', id: 'comp1', status: 'final', type: { text: 'Registration' }, subject: { reference: patientUrl }, date: '2026-12-01', author: [{ display: 'Reception clinic' }], title: 'Registration', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Registration</div>' } };
    await put({
      resourceType: 'Bundle', id: 'doc1', type: 'document', identifier: { system: 'urn:ietf:rfc:3986', value: 'urn:uuid:5b7f2c3e-1d4a-4b9e-8c2f-3a6d9e0b1c22' }, timestamp: '2026-12-01T10:00:00Z',
      entry: [{ fullUrl: 'urn:uuid:9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b', resource: comp }, { fullUrl: patientUrl, resource: { ...inner, text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Haddad</div>' } } }],
    });
    const docX = (await fhir(app, 'GET', '/fhir/Bundle/doc1', undefined, x)).body;
    t.ok(showsNoLabel(docX), 'X: the stored Bundle shows no label');
    t.notOk(JSON.stringify(docX).includes('irregular'), 'X: its entries lose the migration status');
    t.equal(docX.entry[1].resource.name[0].family, 'Haddad');

    // nested: a Binary holding a collection Bundle holding a DocumentReference whose attachment
    // is the Patient — three decodings
    const docRef = { resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { contentType: 'application/fhir+json', data: b64(inner) } }] };
    const nested = { resourceType: 'Bundle', type: 'collection', entry: [{ resource: docRef }] };
    t.ok(labelled(await put({ resourceType: 'Binary', id: 'bn', contentType: 'application/fhir+json', data: b64(nested) })), 'nested content is labelled');
    const nX = JSON.parse(unb64((await fhir(app, 'GET', '/fhir/Binary/bn', undefined, x)).body.data));
    t.notOk(unb64(nX.entry[0].resource.content[0].attachment.data).includes('irregular'), 'X: redacted at the third level');

    // deeper than the server decodes: withheld whole (its content cannot be inspected)
    let deep: any = { resourceType: 'Binary', contentType: 'application/fhir+json', data: b64({ resourceType: 'Patient', id: 'plain' }) };
    for (let i = 0; i < 4; i++) deep = { resourceType: 'Binary', contentType: 'application/fhir+json', data: b64(deep) };
    t.ok(labelled(await put({ ...deep, id: 'bd' })), 'content nested beyond the bound counts as sensitive');
    const dd = (await fhir(app, 'GET', '/fhir/Binary/bd', undefined, x)).body;
    t.ok(showsNoLabel(dd), 'X: no label');
  });
}
