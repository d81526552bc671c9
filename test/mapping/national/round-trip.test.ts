// National → FHIR → national for every national profile adapter: table-driven over the
// fixtures, then over 150 seeded generated inputs per country. Every mapped field survives the
// round trip, and every migfhir resource the adapters write has no error against the IG.
import t, { type Test } from 'tap';
import type { Resource } from 'fhir/r4.js';
import { defaultUnwrap } from '../../../src/mapping/national/bundle.ts';
import { NATIONAL_ADAPTERS } from '../../../src/mapping/registry.ts';
import { profileErrors } from '../../helpers/ig-validator.ts';
import { FIXTURES, generate, stored } from './fixtures.ts';

const adapters = new Map(NATIONAL_ADAPTERS.map((a) => [a.id, a]));
const NOW = '2026-12-01T10:00:00Z';

/** The national resources of an input or output, comparable: ids and patient references neutralised. */
function national(adapterId: string, body: Resource): unknown[] {
  const adapter = adapters.get(adapterId)!;
  const entries = (adapter.spec.unwrap ?? defaultUnwrap)(body).entries.filter((e) => e.resource.resourceType !== 'MessageHeader');
  return entries.map(({ resource }) => {
    const { id: _id, ...rest } = JSON.parse(JSON.stringify(resource)) as Resource & Record<string, any>;
    void _id;
    if (rest.beneficiary?.reference) rest.beneficiary.reference = 'Patient';
    return rest;
  });
}

function roundTrip(t: Test, adapterId: string, body: Resource, label: string) {
  const adapter = adapters.get(adapterId)!;
  const mapped = adapter.map({ body, received: NOW });
  const resources = stored(mapped.bundle);
  for (const r of resources) t.same(profileErrors(r), [], `${label}: ${r.resourceType} valid against the IG`);
  const back = adapter.fromFhir!(resources, { now: NOW });
  t.strictSame(national(adapterId, back), national(adapterId, body), `${label}: national → FHIR → national`);
  return { mapped, resources, back };
}

/** JSON with sorted keys: equal for deep-equal values whatever the key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (x && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x));
}


t.test('fixtures: every mapped field survives the round trip; FHIR side valid', async (t) => {
  for (const f of FIXTURES) roundTrip(t, f.adapter, f.body, f.name);
});

t.test('generated: 150 seeded inputs per adapter', async (t) => {
  for (const id of adapters.keys()) {
    let n = 0;
    for (let seed = 1; seed <= 150; seed++) {
      const body = generate(id, seed * 7919 + id.charCodeAt(0));
      const adapter = adapters.get(id)!;
      const resources = stored(adapter.map({ body, received: NOW }).bundle);
      const errors = resources.flatMap(profileErrors);
      const back = adapter.fromFhir!(resources, { now: NOW });
      const same = canonical(national(id, back)) === canonical(national(id, body));
      if (errors.length || !same) {
        t.same(errors, [], `${id} seed ${seed}: valid`);
        t.strictSame(national(id, back), national(id, body), `${id} seed ${seed}: round trip`);
      } else n++;
    }
    t.equal(n, 150, `${id}: 150 of 150 generated inputs round-trip and validate`);
  }
});

t.test('mapping is deterministic: the same input gives the same Bundle', async (t) => {
  for (const f of FIXTURES) {
    const a = adapters.get(f.adapter)!;
    t.strictSame(a.map({ body: f.body, received: NOW }), a.map({ body: structuredClone(f.body), received: NOW }), f.name);
  }
});
