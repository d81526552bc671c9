import t from 'tap';
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { SearchParamRegistry } from '../../src/search/registry.ts';
import { extractIndex } from '../../src/search/extract.ts';
import { withMeta } from '../../src/store/repository.ts';
import { auditEvent, chained, GENESIS, type AuditInput } from '../../src/audit/audit.ts';
import { AUDIT_PARAMS, auditIndexRows } from '../../src/audit/rows.ts';
import type { IndexRows } from '../../src/search/index-rows.ts';

const defs = loadDefinitions();
const registry = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);

function sorted(rows: IndexRows) {
  const out: Record<string, string[]> = {};
  for (const [k, list] of Object.entries(rows)) out[k] = (list as object[]).map((r) => JSON.stringify(Object.entries(r).sort())).sort();
  return out;
}

const shapes: AuditInput[] = [
  { interaction: 'read', action: 'R', status: 200, clientId: 'bench', address: '127.0.0.1', what: 'Patient/p1', patient: 'Patient/p1' },
  { interaction: 'read', action: 'R', status: 404, what: 'Patient/missing', description: 'Resource Patient/missing is not known' },
  { interaction: 'search-type', action: 'R', status: 200, clientId: 'c', address: '::1', patient: 'Patient/p-2', query: 'patient=p-2&_count=1' },
  { interaction: 'vread', action: 'R', status: 200, clientId: 'c', what: 'Observation/o1', patient: 'Patient/p1', purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'] },
  { interaction: 'search-system', action: 'R', status: 403, purposeOfUse: ['https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement'], description: 'refused' },
  { interaction: 'create', action: 'C', status: 201, clientId: 'Ärztin', address: '10.0.0.1', what: 'Encounter/e.1', patient: 'Patient/a' },
  { interaction: 'operation', action: 'E', status: 500 },
];

t.test('the rows built directly equal what FHIRPath extraction yields, on every event shape', async (t) => {
  for (const input of shapes) {
    const event = withMeta(chained(GENESIS, auditEvent(input)), 1, new Date().toISOString());
    t.same(sorted(auditIndexRows(event as never)), sorted(extractIndex(event, registry)), `${input.interaction} ${input.status}`);
  }
});

t.test('AUDIT_PARAMS names every parameter these events are indexed under', async (t) => {
  const seen = new Set<string>();
  for (const input of shapes) {
    const rows = extractIndex(auditEvent(input), registry);
    for (const list of Object.values(rows)) for (const r of list as { param: string }[]) seen.add(r.param);
  }
  t.same([...seen].sort(), [...AUDIT_PARAMS].sort());
});
