// The details of reading and writing FHIR XML that the example round trip may not show: comments,
// character references, xml:space and namespace prefixes, a primitive with only an id or
// extensions, repeating primitives with gaps, the narrative kept as sent, ExampleScenario's
// element named resourceType, _pretty, and what is refused.
import t, { type Test } from 'tap';
import { fromXml } from '../../../src/fhir/xml/parse.ts';
import { toXml } from '../../../src/fhir/xml/serialize.ts';

const refused = (t: Test, xml: string, pattern: RegExp, what: string) => {
  t.throws(() => fromXml(xml), { status: 400, message: pattern }, what);
};

t.test('reading', async (t) => {
  const xml = `\ufeff<?xml version="1.0" encoding="UTF-8"?>
<!-- a comment before -->
<f:Patient xmlns:f="http://hl7.org/fhir">
  <!-- and inside -->
  <f:text><f:status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml" xml:space="preserve"><p>Amal  <b>Haddad</b> &amp; &#x3c0;</p></div></f:text>
  <f:name>
    <f:family value="d&apos;Arc &#233;&#10;x"/>
    <f:given value="A"/>
    <f:given id="g2"><f:extension url="http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor"><f:valueCode value="UNK"/></f:extension></f:given>
    <f:given value="C"/>
  </f:name>
  <f:birthDate id="b"/>
  <f:multipleBirthInteger value="2"/>
</f:Patient>`;
  t.same(fromXml(xml), {
    resourceType: 'Patient',
    text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml" xml:space="preserve"><p>Amal  <b>Haddad</b> &amp; &#x3c0;</p></div>' },
    name: [{ family: "d'Arc é\nx", given: ['A', null, 'C'], _given: [null, { id: 'g2', extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-nullFlavor', valueCode: 'UNK' }] }, null] }],
    _birthDate: { id: 'b' },
    multipleBirthInteger: 2,
  }, 'prefixes, comments, references, the div as sent, primitives with gaps, typed numbers');

  const scenario = fromXml('<ExampleScenario xmlns="http://hl7.org/fhir"><status value="draft"/><instance><resourceId value="r"/><resourceType value="Patient"/></instance></ExampleScenario>');
  t.same(scenario, { resourceType: 'ExampleScenario', status: 'draft', instance: [{ resourceId: 'r', resourceType: 'Patient' }] }, 'an element named resourceType');
  const hinted = '<Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:schemaLocation="http://hl7.org/fhir ../../schema/fhir-single.xsd"><active value="true"/></Patient>';
  t.same(fromXml(hinted), { resourceType: 'Patient', active: true }, 'xsi:schemaLocation on the root is a hint, not content (published IGs carry it)');
  refused(t, '<Patient xmlns="http://hl7.org/fhir" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><active xsi:nil="true"/></Patient>', /Unknown attribute xsi:nil/, 'other xsi attributes change meaning and stay refused');
  t.equal(toXml(scenario), '<ExampleScenario xmlns="http://hl7.org/fhir"><status value="draft"/><instance><resourceId value="r"/><resourceType value="Patient"/></instance></ExampleScenario>');
});

t.test('writing', async (t) => {
  const patient = { resourceType: 'Patient', active: true, name: [{ given: ['a\tb', null], _given: [null, { id: 'x' }] }], deceasedBoolean: false, contained: [{ resourceType: 'Organization', id: 'o', name: '<&>"' }] };
  t.equal(toXml(patient), '<Patient xmlns="http://hl7.org/fhir"><contained><Organization><id value="o"/><name value="&lt;&amp;&gt;&quot;"/></Organization></contained><active value="true"/><name><given value="a&#9;b"/><given id="x"/></name><deceasedBoolean value="false"/></Patient>', 'definition order, escapes, wrappers');
  t.same(fromXml(toXml(patient)), patient);
  t.equal(toXml({ resourceType: 'Basic', code: { text: 'x' } }, { pretty: true }), '<Basic xmlns="http://hl7.org/fhir">\n  <code>\n    <text value="x"/>\n  </code>\n</Basic>');
  t.throws(() => toXml({ resourceType: 'Patient', name: [{ family: 'a\u0001b' }] }), { status: 406, message: /XML 1.0 cannot carry/ }, 'a control character has no XML form');
});

t.test('refused', async (t) => {
  refused(t, '<?xml version="1.0" encoding="ISO-8859-1"?><Patient xmlns="http://hl7.org/fhir"/>', /encoding ISO-8859-1/, 'another encoding');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><h:div xmlns:h="http://www.w3.org/1999/xhtml"/></text></Patient>', /declare its namespace itself/, 'a prefixed div');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><text><status value="generated"/><div xmlns="http://www.w3.org/1999/xhtml"><x:p xmlns:x="urn:x"/></div></text></Patient>', /XHTML namespace/, 'another namespace inside the div');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><active value="true" style="x"/></Patient>', /Unknown attribute style/, 'an attribute FHIR has not');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><deceasedBoolean value="true"/><deceasedDateTime value="2020"/></Patient>', /deceased appears more than once/, 'two types of one choice');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><name/></Patient>', /empty/, 'an empty element');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><active value=""/></Patient>', /empty value/, 'an empty value');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><contained/></Patient>', /must hold a resource/, 'an empty wrapper');
  refused(t, '<Evil xmlns="http://hl7.org/fhir"/>', /Unknown resource type Evil/, 'an unknown type');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><multipleBirthInteger value="1.5"/></Patient>', /not a valid integer/, 'a decimal for an integer');
  refused(t, '<Patient xmlns="http://hl7.org/fhir"><![CDATA[x]]></Patient>', /hold no text/, 'CDATA text');
});
