// rewrittenCopy (the MLLP mapping thread's speculation, src/rest/bundle-prepared.ts) gives what
// rewriteLocal (the transaction) writes in place, without changing its input, and shares every
// part that held nothing to rewrite.
import t from 'tap';
import { rewriteLocal, rewrittenCopy, type ConditionalAt } from '../../src/rest/bundle-references.ts';

const ids = new Map([
  ['urn:uuid:0f3c5a2e-1d2b-4c5d-8e9f-0a1b2c3d4e5f', 'Patient/p1'],
  ['urn:oid:1.2.3.4', 'Encounter/e1'],
  ['http://other.example/fhir/Practitioner/x', 'Practitioner/pr1'],
]);

const resource = () => ({
  resourceType: 'Provenance',
  id: 'prov',
  meta: { source: 'urn:uuid:0f3c5a2e-1d2b-4c5d-8e9f-0a1b2c3d4e5f', tag: [{ system: 'urn:oid:1.2.3.4', code: 'x' }] },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">for urn:uuid:0f3c5a2e-1d2b-4c5d-8e9f-0a1b2c3d4e5f and urn:uuid:unknown</div>' },
  target: [{ reference: 'urn:uuid:0f3c5a2e-1d2b-4c5d-8e9f-0a1b2c3d4e5f' }, { reference: 'urn:oid:1.2.3.4' }, { reference: 'Patient/stays' }],
  // a member holding a full URL is rewritten whatever its name; a string in an array is not
  extension: [{ url: 'http://example.org/ext', valueUri: 'http://other.example/fhir/Practitioner/x' }],
  policy: ['urn:oid:1.2.3.4'],
  agent: [{ who: { reference: 'http://other.example/fhir/Practitioner/x', display: 'urn:oid:1.2.3.4' } }],
  contained: [{ resourceType: 'Basic', meta: { source: 'urn:oid:1.2.3.4' }, code: { text: 'c' } }],
  recorded: '2024-03-10T10:15:00Z',
});

t.test('rewrittenCopy writes what rewriteLocal writes, and leaves its input alone', async (t) => {
  const input = resource();
  const before = JSON.stringify(input);
  const { value, conditional } = rewrittenCopy(input, ids);
  t.equal(JSON.stringify(input), before, 'the input is unchanged');
  const inPlace = resource();
  const found: ConditionalAt[] = [];
  rewriteLocal(inPlace, ids, found);
  t.same(found, []);
  t.equal(conditional, false);
  t.equal(JSON.stringify(value), JSON.stringify(inPlace), 'the same result as the in-place walk');
  const v = value as ReturnType<typeof resource>;
  t.same(v.target.map((x) => x.reference), ['Patient/p1', 'Encounter/e1', 'Patient/stays']);
  t.equal(v.meta, input.meta, 'the root meta is kept, shared');
  t.equal(v.recorded, input.recorded);
  t.equal(v.policy, input.policy, 'an array with nothing to rewrite is shared');
  t.not(v.contained[0].meta.source, input.contained[0].meta.source, 'a contained resource’s meta is not the root’s: rewritten');
  t.equal(v.contained[0].code, input.contained[0].code, 'unchanged parts are shared');
  t.match(v.text.div, /for Patient\/p1 and urn:uuid:unknown/);
});

t.test('nothing to rewrite: the same object back; a conditional reference is reported', async (t) => {
  const plain = { resourceType: 'Patient', id: 'x', name: [{ family: 'Diallo' }], link: [{ other: { reference: 'Patient/y' }, type: 'seealso' }] };
  t.equal(rewrittenCopy(plain, ids).value, plain);
  const withConditional = { resourceType: 'Encounter', subject: { reference: 'Patient?identifier=a|1' }, partOf: { reference: 'urn:oid:1.2.3.4' } };
  const r = rewrittenCopy(withConditional, ids);
  t.equal(r.conditional, true);
  const found: ConditionalAt[] = [];
  rewriteLocal(structuredClone(withConditional), ids, found);
  t.equal(found.length, 1, 'rewriteLocal collects the same one');
  t.equal(withConditional.partOf.reference, 'urn:oid:1.2.3.4', 'the input is unchanged');
});
