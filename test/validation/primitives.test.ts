// base64Binary: the table-driven alphabet check says what R4's regular expression says (alphabet
// characters, then at most two '=', whitespace allowed anywhere, groups of four).
import t from 'tap';
import { primitiveError } from '../../src/validation/primitives.ts';

const R4 = /^[A-Za-z0-9+/]*={0,2}$/;
/** R4's own verdict on a base64Binary value: whitespace removed, then the pattern and groups of four. */
const r4Valid = (v: string) => {
  const compact = v.replace(/\s+/g, '');
  return v.length > 0 && R4.test(compact) && compact.length % 4 === 0;
};

t.test('base64Binary agrees with the R4 pattern', async (t) => {
  const cases = [
    'QUJD', 'QUI=', 'QQ==', 'Q===', '====', '=QUJ', 'QU=J', 'QUJD\nRUZH', ' QUJD ', 'QUJ', 'QUJDRA', 'QUJ-', 'QUJ_', 'QUJé', 'QUJ\u0000',
    'A+/z', 'A+/z==', 'A+/z=', '+/+/', 'QUJD\r\n', 'QUJDRUZH'.repeat(1000), `${'QUJD'.repeat(1000)}é`, `${'QUJD'.repeat(1000)}=`,
  ];
  for (const v of cases) {
    t.equal(primitiveError('base64Binary', v) === undefined, r4Valid(v), JSON.stringify(v.length > 40 ? `${v.slice(0, 20)}…${v.slice(-4)}` : v));
  }
});
