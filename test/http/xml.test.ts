// FHIR XML through the server: content negotiation (_format, Accept, the body's type,
// fhirVersion), every kind of interaction answering XML, XML bodies for create, transactions
// with urn:uuid and FHIRPath Patch, errors as XML OperationOutcomes, and redaction before XML.
import t from 'tap';
import { fhir, testApp } from '../helpers/app.ts';
import { authorizedApp } from '../helpers/authorized-app.ts';
import { fromXml } from '../../src/fhir/xml/parse.ts';

const XML = 'application/fhir+xml';
const PATIENT = '<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><name><family value="Haddad"/><given value="Amal"/></name><gender value="female"/><birthDate value="1990-04-01"/></Patient>';

function xmlBody(res: { body: string }): any {
  return fromXml(res.body);
}

t.test('negotiation: _format, Accept, the body type and fhirVersion', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const put = await app.inject({ method: 'PUT', url: '/fhir/Patient/p1', headers: { 'content-type': XML }, payload: PATIENT });
  t.equal(put.statusCode, 201, put.body);
  t.match(put.headers['content-type'], /^application\/fhir\+xml/, 'an XML body with no Accept is answered in XML');
  t.equal(xmlBody(put).name[0].family, 'Haddad');

  const cases: [string, Record<string, string>, string][] = [
    ['/fhir/Patient/p1?_format=xml', {}, 'xml'],
    ['/fhir/Patient/p1?_format=text/xml', {}, 'xml'],
    ['/fhir/Patient/p1?_format=application/xml', {}, 'xml'],
    ['/fhir/Patient/p1?_format=application/fhir%2Bxml', {}, 'xml'],
    ['/fhir/Patient/p1?_format=json', { accept: XML }, 'json'],
    ['/fhir/Patient/p1', { accept: XML }, 'xml'],
    ['/fhir/Patient/p1', { accept: 'application/fhir+json;q=0.5, application/fhir+xml;q=0.9' }, 'xml'],
    ['/fhir/Patient/p1', { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' }, 'xml'],
    ['/fhir/Patient/p1', { accept: 'application/fhir+xml; fhirVersion=4.0' }, 'xml'],
    ['/fhir/Patient/p1', { accept: '*/*' }, 'json'],
    ['/fhir/Patient/p1', {}, 'json'],
  ];
  for (const [url, headers, format] of cases) {
    const res = await app.inject({ method: 'GET', url, headers });
    t.equal(res.statusCode, 200, `${url} ${JSON.stringify(headers)}`);
    t.match(res.headers['content-type'], format === 'xml' ? /^application\/fhir\+xml/ : /^application\/fhir\+json/, `${url} ${JSON.stringify(headers)} → ${format}`);
  }
  const json = (await fhir(app, 'GET', '/fhir/Patient/p1')).body;
  const xml = xmlBody(await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=xml' }));
  t.same(xml, json, 'the XML answer holds what the JSON one does');

  const other = await app.inject({ method: 'GET', url: '/fhir/Patient/p1', headers: { accept: 'application/fhir+xml; fhirVersion=3.0' } });
  t.equal(other.statusCode, 406, 'another FHIR version is not acceptable');
  t.equal((await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=turtle' })).statusCode, 406);
  const stu3 = await app.inject({ method: 'PUT', url: '/fhir/Patient/p1', headers: { 'content-type': 'application/fhir+xml; fhirVersion=3.0' }, payload: PATIENT });
  t.equal(stu3.statusCode, 415, 'a body of another FHIR version is refused');

  const pretty = await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=xml&_pretty=true' });
  t.match(pretty.body, /\n  <name>\n    <family value="Haddad"\/>/, '_pretty indents');
  const summary = xmlBody(await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=xml&_elements=birthDate' }));
  t.equal(summary.birthDate, '1990-04-01');
  t.notOk(summary.name, '_elements applies in XML');

  const cap = xmlBody(await app.inject({ method: 'GET', url: '/fhir/metadata', headers: { accept: XML } }));
  t.ok(cap.format.includes('application/fhir+xml') && cap.format.includes('application/fhir+json'), 'the CapabilityStatement lists both formats');
});

t.test('errors are OperationOutcomes in the format asked for', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const missing = await app.inject({ method: 'GET', url: '/fhir/Patient/nobody', headers: { accept: XML } });
  t.equal(missing.statusCode, 404);
  t.match(missing.headers['content-type'], /^application\/fhir\+xml/);
  t.equal(xmlBody(missing).issue[0].code, 'not-found');
  const route = await app.inject({ method: 'GET', url: '/fhir/NoSuchThing/x/y/z?_format=xml' });
  t.equal(xmlBody(route).resourceType, 'OperationOutcome');
  const refused = await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=yaml' });
  t.equal(refused.statusCode, 406);
  t.match(refused.headers['content-type'], /^application\/fhir\+json/, 'a 406 is answered in JSON: nothing else was asked for that the server writes');
});

t.test('interactions in XML: search, history, conditional create, transaction with urn:uuid, FHIRPath Patch, $everything', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const tx = `<Bundle xmlns="http://hl7.org/fhir"><type value="transaction"/>
  <entry><fullUrl value="urn:uuid:7f7b3c4e-1c44-4e8a-9a51-2d1f3c0a8b01"/><resource><Patient><name><family value="Nasser"/></name></Patient></resource>
    <request><method value="POST"/><url value="Patient"/><ifNoneExist value="family=Nasser"/></request></entry>
  <entry><resource><Observation><status value="final"/><code><text value="weight"/></code>
      <subject><reference value="urn:uuid:7f7b3c4e-1c44-4e8a-9a51-2d1f3c0a8b01"/></subject><valueQuantity><value value="61.50"/><unit value="kg"/></valueQuantity></Observation></resource>
    <request><method value="POST"/><url value="Observation"/></request></entry>
</Bundle>`;
  const res = await app.inject({ method: 'POST', url: '/fhir', headers: { 'content-type': XML, accept: XML }, payload: tx });
  t.equal(res.statusCode, 200, res.body);
  const answer = xmlBody(res);
  t.equal(answer.type, 'transaction-response');
  const patientId = /Patient\/([^/]+)/.exec(answer.entry[0].response.location)![1];
  const obs = (await fhir(app, 'GET', '/fhir/Observation?subject=Patient/' + patientId)).body;
  t.equal(obs.total, 1, 'the urn:uuid reference was resolved');
  t.equal(obs.entry[0].resource.valueQuantity.value, 61.5, 'decimals are numbers in JSON');

  const search = await app.inject({ method: 'GET', url: '/fhir/Patient?family=Nasser&_format=xml' });
  const bundle = xmlBody(search);
  t.equal(bundle.total, 1);
  t.equal(bundle.entry[0].resource.name[0].family, 'Nasser', 'search Bundles hold their resources in XML');

  const again = await app.inject({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': XML, 'if-none-exist': 'family=Nasser' }, payload: '<Patient xmlns="http://hl7.org/fhir"><name><family value="Nasser"/></name></Patient>' });
  t.equal(again.statusCode, 200, 'conditional create finds the match');

  const patch = `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="operation"/>
    <part><name value="type"/><valueCode value="add"/></part><part><name value="path"/><valueString value="Patient"/></part>
    <part><name value="name"/><valueString value="birthDate"/></part><part><name value="value"/><valueDate value="1985-02-03"/></part></parameter></Parameters>`;
  const patched = await app.inject({ method: 'PATCH', url: `/fhir/Patient/${patientId}`, headers: { 'content-type': XML }, payload: patch });
  t.equal(patched.statusCode, 200, patched.body);
  t.equal(xmlBody(patched).birthDate, '1985-02-03', 'FHIRPath Patch as XML Parameters');

  const history = xmlBody(await app.inject({ method: 'GET', url: `/fhir/Patient/${patientId}/_history?_format=xml` }));
  t.equal(history.type, 'history');
  t.equal(history.entry.length, 2);
  const everything = xmlBody(await app.inject({ method: 'GET', url: `/fhir/Patient/${patientId}/$everything?_format=xml` }));
  t.same(everything.entry.map((e: any) => e.resource.resourceType).sort(), ['Observation', 'Patient']);
});

t.test('what has no XML form (stored with validation off) is 406 in XML, never malformed or injected XML', async (t) => {
  const app = await testApp({ validation: { default: 'off', types: {} } });
  t.teardown(() => app.close());
  // a narrative that closes its div early to smuggle an element into the XML answer
  const injected = '<div xmlns="http://www.w3.org/1999/xhtml">x</div></text><active value="true"/><text><div xmlns="http://www.w3.org/1999/xhtml">y</div>';
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/n1', { resourceType: 'Patient', id: 'n1', text: { status: 'generated', div: injected } })).status, 201);
  t.equal((await fhir(app, 'PUT', '/fhir/Patient/n2', { resourceType: 'Patient', id: 'n2', name: [{ family: 'x', nickname: 'y' }] })).status, 201);
  for (const id of ['n1', 'n2']) {
    const res = await app.inject({ method: 'GET', url: `/fhir/Patient/${id}?_format=xml` });
    t.equal(res.statusCode, 406, `${id}: 406`);
    t.equal(xmlBody(res).resourceType, 'OperationOutcome', `${id}: an OperationOutcome, in XML`);
    t.notMatch(res.body, '<active', `${id}: nothing smuggled`);
    t.equal((await app.inject({ method: 'GET', url: `/fhir/Patient/${id}` })).statusCode, 200, `${id}: readable as JSON`);
  }
});

t.test('$validate of an XML resource gives FHIRPath expressions with line and column', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const body = '<Patient xmlns="http://hl7.org/fhir">\n  <name><family value="Doe"/></name>\n  <gender value="robot"/>\n</Patient>';
  for (const payload of [body, `<Parameters xmlns="http://hl7.org/fhir"><parameter><name value="resource"/><resource>\n${body}</resource></parameter></Parameters>`]) {
    const res = await app.inject({ method: 'POST', url: '/fhir/Patient/$validate', headers: { 'content-type': XML }, payload });
    t.equal(res.statusCode, 200);
    const issue = xmlBody(res).issue.find((i: any) => i.expression?.[0] === 'Patient.gender');
    t.ok(issue, 'the bad code is reported at Patient.gender');
    const ext = (name: string) => issue.extension.find((e: any) => e.url.endsWith(`operationoutcome-issue-${name}`))?.valueInteger;
    t.equal(ext('line'), payload === body ? 3 : 4, 'on the line of <gender>');
    t.equal(ext('col'), 25, 'at the end of its start tag (the column of its >)');
  }
});

t.test('hostile XML is refused with 400 and changes nothing', async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  const bodies: [string, string, string][] = [
    ['external entity (XXE)', XML, '<?xml version="1.0"?><!DOCTYPE Patient [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><Patient xmlns="http://hl7.org/fhir"><name><family value="&xxe;"/></name></Patient>'],
    ['billion laughs', XML, '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;"><!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><Patient xmlns="http://hl7.org/fhir"><name><family value="&lol3;"/></name></Patient>'],
    ['undeclared entity', XML, '<Patient xmlns="http://hl7.org/fhir"><name><family value="&nbsp;"/></name></Patient>'],
    ['deep nesting', XML, `<Patient xmlns="http://hl7.org/fhir">${'<extension url="u">'.repeat(5000)}${'</extension>'.repeat(5000)}</Patient>`],
    ['huge attribute count', XML, `<Patient xmlns="http://hl7.org/fhir" ${Array.from({ length: 5000 }, (_, i) => `a${i}="x"`).join(' ')}/>`],
    ['huge attribute name', XML, `<Patient xmlns="http://hl7.org/fhir"><active ${'a'.repeat(100_000)}="true"/></Patient>`],
    ['mixed namespaces', XML, '<Patient xmlns="http://hl7.org/fhir" xmlns:x="urn:other"><x:name><family value="Doe"/></x:name></Patient>'],
    ['resource outside the FHIR namespace', XML, '<Patient xmlns="http://hl7.org/fhir/other"><active value="true"/></Patient>'],
    ['narrative outside XHTML', XML, '<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div>hi</div></text></Patient>'],
    ['unknown element', XML, '<Patient xmlns="http://hl7.org/fhir"><migrationStatus value="x"/></Patient>'],
    ['text where FHIR has none', XML, '<Patient xmlns="http://hl7.org/fhir"><active>true</active></Patient>'],
    ['a repeated singleton', XML, '<Patient xmlns="http://hl7.org/fhir"><gender value="male"/><gender value="female"/></Patient>'],
    ['a JSON body sent as XML', XML, JSON.stringify({ resourceType: 'Patient', active: true })],
    ['an XML body sent as JSON', 'application/fhir+json', PATIENT],
    ['two roots', XML, '<Patient xmlns="http://hl7.org/fhir"/><Patient xmlns="http://hl7.org/fhir"/>'],
    ['a lone surrogate by reference', XML, '<Patient xmlns="http://hl7.org/fhir"><name><family value="a&#xD800;b"/></name></Patient>'],
    ['a control character by reference', XML, '<Patient xmlns="http://hl7.org/fhir"><name><family value="a&#1;b"/></name></Patient>'],
    ['not a boolean', XML, '<Patient xmlns="http://hl7.org/fhir"><active value="yes"/></Patient>'],
  ];
  for (const [what, type, payload] of bodies) {
    const started = Date.now();
    const res = await app.inject({ method: 'POST', url: '/fhir/Patient', headers: { 'content-type': type }, payload });
    t.equal(res.statusCode, 400, `${what}: 400`);
    const outcome = type === XML ? xmlBody(res) : JSON.parse(res.body);
    t.equal(outcome.resourceType, 'OperationOutcome', `${what}: an OperationOutcome`);
    t.notMatch(res.body, /root:|lollol/, `${what}: nothing expanded`);
    t.ok(Date.now() - started < 5000, `${what}: refused without long work`);
  }
  t.equal((await fhir(app, 'GET', '/fhir/Patient')).body.total, 0, 'nothing was stored');
});

t.test('a sensitive Patient read as XML by a client without the migration-data scope is redacted', async (t) => {
  const STATUS_EXT = 'https://migfhir.org/fhir/StructureDefinition/migration-status';
  const { app, bearer } = await authorizedApp(t, { id: 'c', scope: 'system/*.cruds migfhir/migration-data.read', alg: 'ES384' });
  const full = await bearer('system/*.cruds migfhir/migration-data.read');
  const plain = await bearer('system/Patient.rs');
  const patient = `<Patient xmlns="http://hl7.org/fhir"><id value="p1"/>
    <extension url="${STATUS_EXT}"><extension url="status"><valueCodeableConcept><coding><system value="https://migfhir.org/fhir/CodeSystem/migration-status"/><code value="asylum-applicant"/></coding></valueCodeableConcept></extension></extension>
    <name><family value="Haddad"/></name></Patient>`;
  const put = await app.inject({ method: 'PUT', url: '/fhir/Patient/p1', headers: { ...full, 'content-type': XML }, payload: patient });
  t.equal(put.statusCode, 201, put.body);
  const seen = await app.inject({ method: 'GET', url: '/fhir/Patient/p1?_format=xml', headers: full });
  t.match(seen.body, 'asylum-applicant', 'the scope sees it');
  for (const url of ['/fhir/Patient/p1?_format=xml', '/fhir/Patient?family=Haddad&_format=xml', '/fhir/Patient/p1/_history?_format=xml', '/fhir/Patient/p1?_format=xml&_pretty=true']) {
    const res = await app.inject({ method: 'GET', url, headers: plain });
    t.equal(res.statusCode, 200, url);
    t.notMatch(res.body, /asylum-applicant|migration-status/, `${url}: no migration status in XML`);
    t.notMatch(res.body, /REDACTED|sensitivity|v3-Confidentiality/, `${url}: no label tells that it held anything`);
    t.match(res.headers['x-sensitive-data'], /^withheld/, `${url}: the notice every answer carries`);
  }
});
