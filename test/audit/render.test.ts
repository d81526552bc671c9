// The stored AuditEvent written from the event's fields (src/audit/render.ts) is, character for
// character, the event auditEvent() builds with the stored meta and the chain link, serialized:
// on every shape an event takes (rest and login, aggregated, refused, labelled, with and without
// client, address, resource, patient, query and purposes, text that needs escaping).
import t from 'tap';
import { auditEvent, chainHash, chained, GENESIS, hashOf, type QueuedAudit } from '../../src/audit/audit.ts';
import { storedEvent, unlinkedJson } from '../../src/audit/render.ts';
import { withMeta } from '../../src/store/repository.ts';
import type { AuditEvent } from 'fhir/r4.js';

const AT = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
const shapes: Omit<QueuedAudit, 'id' | 'at'>[] = [
  { interaction: 'read', action: 'R', status: 200, clientId: 'bench', address: '127.0.0.1', what: 'Patient/p1', patient: 'Patient/p1' },
  { interaction: 'read', action: 'R', status: 200, clientId: 'bench', address: '127.0.0.1', what: 'Observation/o1', patient: 'Patient/p1', purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT', 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|HRESCH'] },
  { interaction: 'search-type', action: 'R', status: 403, clientId: 'Ärztin "x"\n', address: '::1', patient: 'Patient/p-2', query: 'name=Ἀθηνᾶ&b="c"', purposeOfUse: ['http://terminology.hl7.org/CodeSystem/v3-ActReason|TREAT'], description: 'refused \\ "why" \u2028' },
  { interaction: 'search-type', action: 'R', status: 200, clientId: 'c', query: 'identifier=lma|1', sensitive: true },
  { interaction: 'search-system', action: 'R', status: 200, sensitive: true, purposeOfUse: ['no-bar'] },
  { interaction: 'operation', action: 'E', status: 500 },
  { interaction: 'create', action: 'C', status: 201, clientId: '', address: '', what: 'Observation/x', description: 'ignored below 400' },
  { interaction: 'delete', action: 'D', status: 404, description: '' },
  { kind: 'login', interaction: 'login', action: 'E', status: 200, clientId: 'hospital-a', address: '10.0.0.1' },
  { kind: 'login', interaction: 'login', action: 'E', status: 401, address: '10.0.0.1', description: 'invalid_client: bad signature' },
  { kind: 'login', interaction: 'login', action: 'E', status: 429, description: '12 requests refused', period: { start: AT - 60_000, end: AT - 1 } },
];

t.test('the stored JSON written from the fields equals the event with meta and chain link, serialized', async (t) => {
  let previous = GENESIS;
  shapes.forEach((shape, i) => {
    const e = { ...shape, id: `ae-${i}`, at: AT + i } as QueuedAudit;
    const lastUpdated = new Date(AT + 1000 + i).toISOString();
    const event = auditEvent(e, new Date(e.at).toISOString(), e.id);
    const { json, hash } = storedEvent(previous, e, lastUpdated);
    const stored = withMeta(event, 1, lastUpdated) as AuditEvent;
    // the trail has always stored versionId and lastUpdated before the labels
    stored.meta = { versionId: '1', lastUpdated, ...event.meta };
    const expected = chained(previous, stored);
    t.equal(json, JSON.stringify(expected), `${i}: ${shape.interaction} ${shape.status}`);
    const parsed = JSON.parse(json) as AuditEvent;
    t.same(hashOf(parsed), { previous, hash }, 'the link');
    t.equal(chainHash(previous, parsed), hash, 'verifies as verifyChain recomputes it');
    previous = hash;
  });
});

t.test('the hash covers every field that is shown', async (t) => {
  const base = { interaction: 'read', action: 'R', status: 200, clientId: 'c', address: '127.0.0.1', what: 'Observation/o', patient: 'Patient/p', query: 'a=b', purposeOfUse: ['s|c'], id: 'ae', at: AT } as QueuedAudit;
  const hash = (e: QueuedAudit, lastUpdated = '2026-01-02T00:00:00.000Z') => storedEvent(GENESIS, e, lastUpdated).hash;
  const changed: [string, Partial<QueuedAudit>][] = [
    ['id', { id: 'ae2' }], ['time', { at: AT + 1 }], ['action', { action: 'C' }], ['subtype', { interaction: 'vread' }], ['outcome', { status: 404 }],
    ['client', { clientId: 'd' }], ['address', { address: '::1' }], ['resource', { what: 'Observation/o2' }], ['patient', { patient: 'Patient/q' }],
    ['query', { query: 'a=c' }], ['purpose', { purposeOfUse: ['s|d'] }], ['labels', { sensitive: true }], ['kind', { kind: 'login' }],
  ];
  const seen = new Set([hash(base)]);
  for (const [what, change] of changed) {
    const h = hash({ ...base, ...change });
    t.notOk(seen.has(h), what);
    seen.add(h);
  }
  t.not(hash(base, '2026-01-02T00:00:00.001Z'), hash(base), 'meta.lastUpdated');
  t.ok(unlinkedJson(base, 'x').endsWith('}') && !unlinkedJson(base, 'x').includes('audit-chain'), 'the hashed text has no link');
});
