// Query strings as FHIR reads them: order and repetition kept, + as space, and escapes that do
// not encode UTF-8 (or NUL) marked malformed instead of decoded to U+FFFD.
import t from 'tap';
import { decodeSegment, MALFORMED, parseQuery, queryOf } from '../../src/fhir/query.ts';
import { FhirError } from '../../src/fhir/errors.ts';
import { thrownStatus } from '../helpers/errors.ts';

const status = thrownStatus;

t.test('parseQuery keeps order and repetition and decodes UTF-8', async (t) => {
  t.same({ ...parseQuery('name=a&name=b&given=Ay%C5%9Fe+Nur&flag&=x&&') }, { name: ['a', 'b'], given: ['Ayşe Nur'], flag: [''], '': ['x'] });
  t.same({ ...parseQuery('code=http%3A%2F%2Floinc.org%7C1234-5&v=a%2Bb') }, { code: ['http://loinc.org|1234-5'], v: ['a+b'] });
  t.equal(parseQuery('name=x')[MALFORMED], undefined, 'well-formed');
  t.same(Object.keys(parseQuery('__proto__=1')), ['__proto__'], '__proto__ is an ordinary name');
});

t.test('malformed escapes and NUL', async (t) => {
  for (const qs of ['name=%FF', 'name=%ED%A0%80', 'name=%C0%AF', 'name=%ZZ', 'name=%', 'name=%E2%82', '%FF=x', 'name=a%00', 'na%00me=x']) {
    t.type(parseQuery(qs)[MALFORMED], FhirError, qs);
    t.equal(status(() => queryOf(qs)), 400, `queryOf ${qs}`);
  }
});

t.test('decodeSegment: + stays +, bad escapes are 400', async (t) => {
  t.equal(decodeSegment('a+b%20c'), 'a+b c');
  t.equal(status(() => decodeSegment('%E0%A4%A')), 400);
});
