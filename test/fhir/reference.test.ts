// Every form of literal reference, id and canonical the server reads, as a case table: what
// parseReference makes of it, and which ones localTarget takes for this server's resources.
import t from 'tap';
import {
  absoluteAddress, assertValidId, canonicalUrl, formatReference, isConditionalReference, isId, localKey, localTarget,
  parseCanonical, parseReference, resourceAddress, URN_IN_TEXT, withoutVersion, type ParsedReference,
} from '../../src/fhir/reference.ts';
import { thrownStatus } from '../helpers/errors.ts';

const BASE = 'https://fhir.example.org/fhir';
const id64 = 'a'.repeat(64);

const CASES: [string, ParsedReference | undefined][] = [
  ['Patient/123', { kind: 'relative', type: 'Patient', id: '123' }],
  ['Patient/A-b.9', { kind: 'relative', type: 'Patient', id: 'A-b.9' }],
  [`Patient/${id64}`, { kind: 'relative', type: 'Patient', id: id64 }],
  ['Observation/o1/_history/3', { kind: 'relative', type: 'Observation', id: 'o1', version: '3' }],
  [`${BASE}/Patient/123`, { kind: 'absolute', base: BASE, type: 'Patient', id: '123' }],
  [`${BASE}/Patient/123/_history/2`, { kind: 'absolute', base: BASE, type: 'Patient', id: '123', version: '2' }],
  ['http://other.org/Encounter/e', { kind: 'absolute', base: 'http://other.org', type: 'Encounter', id: 'e' }],
  ['urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b', { kind: 'urn', scheme: 'uuid', urn: 'urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b' }],
  ['urn:oid:1.2.840.113619.2', { kind: 'urn', scheme: 'oid', urn: 'urn:oid:1.2.840.113619.2' }],
  ['#c1', { kind: 'contained', id: 'c1' }],
  ['#', { kind: 'contained', id: '' }],
  ['Patient?identifier=http://x|1', { kind: 'conditional', type: 'Patient', query: 'identifier=http://x|1' }],
  ['Patient?', { kind: 'conditional', type: 'Patient', query: '' }],
  // not literal references this server can follow
  ['', undefined],
  ['Patient', undefined],
  ['Patient/', undefined],
  [`Patient/${id64}x`, undefined],
  ['Patient/bad$id', undefined],
  ['Patient/1/_history/', undefined],
  ['patient/1', undefined],
  ['P/1', undefined],
  ['Patient/1/extra', undefined],
  ['urn:isbn:0451450523', undefined],
  ['urn:uuid:has space', undefined],
  ['ftp://x.org/Patient/1', undefined],
  [`${BASE}/Patient/1?x=y`, undefined],
  ['http://x.org/fhir/metadata', undefined],
  ['Questionnaire/q|2', undefined],
];

t.test('parseReference: every form, and what is none', async (t) => {
  for (const [ref, expected] of CASES) t.same(parseReference(ref), expected, JSON.stringify(ref));
});

t.test('resourceAddress and absoluteAddress name resources, never urns, contained or conditional', async (t) => {
  t.same(resourceAddress('Patient/1/_history/2'), { type: 'Patient', id: '1', version: '2' });
  t.same(resourceAddress(`${BASE}/Patient/1`), { base: BASE, type: 'Patient', id: '1' });
  for (const ref of ['#c', 'urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b', 'Patient?x=1', 'nope']) t.equal(resourceAddress(ref), undefined, ref);
  t.same(absoluteAddress(`${BASE}/Patient/1/_history/4`), { base: BASE, type: 'Patient', id: '1', version: '4' });
  t.equal(absoluteAddress('Patient/1'), undefined, 'a relative reference has no base');
});

t.test("localTarget: relative ones and absolute ones on the server's own base only", async (t) => {
  const rows: [string, readonly string[], object | undefined][] = [
    ['Patient/1', [], { type: 'Patient', id: '1' }],
    ['Patient/1/_history/7', [], { type: 'Patient', id: '1', version: '7' }],
    [`${BASE}/Patient/1`, [BASE], { type: 'Patient', id: '1' }],
    [`${BASE}/Patient/1/_history/2`, ['http://a.org', BASE], { type: 'Patient', id: '1', version: '2' }],
    // another server's Patient/1 is not ours, however alike the ids
    ['https://elsewhere.org/fhir/Patient/1', [BASE], undefined],
    [`${BASE}/Patient/1`, [], undefined],
    [`${BASE}/sub/Patient/1`, [BASE], undefined],
    ['#p', [BASE], undefined],
    ['urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b', [BASE], undefined],
  ];
  for (const [ref, bases, expected] of rows) {
    const got = localTarget(ref, bases);
    t.same(got && { type: got.type, id: got.id, ...(got.version ? { version: got.version } : {}) }, expected, `${ref} on ${bases.join(' ') || 'no base'}`);
  }
  t.equal(localKey(`${BASE}/Observation/o/_history/2`, BASE), 'Observation/o', 'the key drops the version');
  t.equal(localKey('https://elsewhere.org/Observation/o', BASE), undefined);
});

t.test('formatReference is parseReference read backwards', async (t) => {
  for (const [ref, parsed] of CASES) {
    if (parsed?.kind === 'relative' || parsed?.kind === 'absolute') t.equal(formatReference(parsed), ref, ref);
  }
  t.equal(formatReference({ base: BASE, type: 'Patient', id: '1', version: '2' }), `${BASE}/Patient/1/_history/2`);
  t.equal(withoutVersion(`${BASE}/Patient/1/_history/2`), `${BASE}/Patient/1`);
  t.equal(withoutVersion('Patient/1'), 'Patient/1');
});

t.test('conditional references and urns in text', async (t) => {
  t.ok(isConditionalReference('Patient?identifier=x|1'));
  for (const ref of ['Patient/1', 'patient?x=1', '?x=1', 'http://x.org/Patient?x=1']) t.notOk(isConditionalReference(ref), ref);
  const div = '<div>see <a href="urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b">it</a> and urn:oid:1.2.3</div>';
  t.same(div.match(URN_IN_TEXT), ['urn:uuid:0f3e7a52-1c0d-4f5e-9a7b-2c1d3e4f5a6b', 'urn:oid:1.2.3']);
});

t.test('canonicals: url|version', async (t) => {
  t.same(parseCanonical('http://x.org/Questionnaire/phq9'), { url: 'http://x.org/Questionnaire/phq9' });
  t.same(parseCanonical('http://x.org/Questionnaire/phq9|2.0'), { url: 'http://x.org/Questionnaire/phq9', version: '2.0' });
  t.same(parseCanonical('http://x.org/vs|1|2'), { url: 'http://x.org/vs', version: '1|2' }, 'only the first bar separates');
  t.equal(canonicalUrl('http://x.org/vs|1'), 'http://x.org/vs');
  t.equal(canonicalUrl('http://x.org/vs'), 'http://x.org/vs');
});

t.test('ids: 1-64 of A-Z a-z 0-9 - .', async (t) => {
  for (const id of ['a', 'A-1.b', id64]) t.ok(isId(id), id);
  for (const id of ['', `${id64}a`, 'a b', 'a_b', 'a/b', 'ä', undefined, 7]) t.notOk(isId(id), String(id));
  t.equal(thrownStatus(() => assertValidId('a/b')), 400);
  t.equal(thrownStatus(() => assertValidId('ok-1')), undefined);
});
