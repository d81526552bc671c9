// The adapter registry and `migfhir adapters`.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { ADAPTERS, describeAdapters, findAdapter } from '../../src/mapping/registry.ts';
import { authorityForSystem, IDENTIFIER_SYSTEMS, systemForAuthority } from '../../src/mapping/identifiers.ts';

t.test('registry entries are complete and unique', async (t) => {
  t.equal(new Set(ADAPTERS.map((a) => a.id)).size, ADAPTERS.length);
  for (const a of ADAPTERS) {
    t.ok(a.version && a.formats.length && a.directions.length && a.operations.length, a.id);
    if (a.directions.includes('inbound')) t.type(a.toFhir, 'function');
    if (a.directions.includes('outbound')) t.type(a.fromFhir, 'function');
  }
  t.equal(findAdapter('hl7v2-adt')?.id, 'hl7v2-adt');
});

t.test('migfhir adapters prints one line per adapter: id, country or system, formats, directions', async (t) => {
  const out = execFileSync(process.execPath, ['src/cli/main.ts', 'adapters'], { encoding: 'utf8' }).trim().split('\n');
  t.same(out, describeAdapters());
  t.equal(out.length, ADAPTERS.length);
  t.match(out[0], /^hl7v2-adt\s+hospital .*x-application\/hl7-v2\+er7\s+inbound,outbound$/);
});

t.test('identifier systems: every national system maps both ways through its authority', async (t) => {
  for (const s of IDENTIFIER_SYSTEMS) {
    const a = authorityForSystem(s.system);
    t.equal(systemForAuthority(a)?.system, s.system, s.id);
    if (s.oid) t.equal(systemForAuthority({ universalId: s.oid, universalIdType: 'ISO' })?.system, s.system, `${s.id} by OID`);
  }
  for (const sys of ['https://migfhir.org/fhir/sid/passport/SYR', 'https://migfhir.org/fhir/sid/hl7v2-authority/CAMP%20B', 'urn:oid:1.2.3.4', 'https://example.org/mrn']) {
    const a = authorityForSystem(sys);
    t.equal(systemForAuthority(a, sys.includes('passport') ? 'PPN' : undefined)?.system, sys);
  }
  for (const ns of ['PESEL', 'KVNR', 'AMKA', 'PAAYPA', 'STP', 'ENI', 'CF', 'PERSONNUMMER', 'SAMORDNINGSNUMMER', 'SSIN', 'BIS', 'MBO', 'OIB']) {
    t.ok(systemForAuthority({ namespace: ns })?.known, `${ns} is in the table`);
  }
});
