// Round trip of the International Patient Summary between two servers: the summary of a
// generated record on instance A, imported with $import-summary into instance B, must give B
// the same clinical content A holds. Resources are compared by content, never by id: each is
// reduced to a fingerprint without id, meta and narrative, in which every reference is replaced
// by the fingerprint of what it points to (one level), so "the MedicationRequest for the
// Medication rifampicin, prescribed by Dr Papadopoulou" matches whatever ids B gave them. What
// the summary adds to meet IPS — data-absent-reason markers for unknown mandatory elements — is
// left out of the comparison; a reference that cannot be followed on either side compares as
// "outside the summary".
import t, { type Test } from 'tap';
import type { Resource } from 'fhir/r4.js';
import { clinicalRecord, recordTransaction, type RecordMix } from '../../scripts/clinical-record.ts';
import { fhir, testApp } from '../helpers/app.ts';

const DAR = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';
type Json = Record<string, unknown>;

/** {extension: [data-absent-reason]} and nothing else: what $summary writes for an unknown value */
const absentOnly = (v: unknown) => {
  const o = v as Json;
  return !!o && typeof o === 'object' && Object.keys(o).length === 1 && Array.isArray(o.extension) && o.extension.length === 1 && (o.extension[0] as Json).url === DAR;
};

function canonical(value: unknown, resolve: (ref: string) => Json | undefined, follow: boolean): unknown {
  if (Array.isArray(value)) {
    const items = value.filter((v) => !absentOnly(v)).map((v) => canonical(v, resolve, follow));
    return items.length ? items : undefined;
  }
  if (!value || typeof value !== 'object') return value;
  const o = value as Json;
  if ('reference' in o || ('display' in o && Object.keys(o).every((k) => k === 'display' || k === 'type'))) {
    const target = typeof o.reference === 'string' ? resolve(o.reference) : undefined;
    if (!target) return '→ outside the summary';
    return follow ? { '→': fingerprint(target, resolve, false) } : `→ ${target.resourceType}`;
  }
  const out: Json = {};
  for (const k of Object.keys(o).sort()) {
    if (absentOnly(o[k])) continue;
    const v = canonical(o[k], resolve, follow);
    if (v !== undefined) out[k] = v;
  }
  return Object.keys(out).length ? out : undefined;
}

function fingerprint(r: Json, resolve: (ref: string) => Json | undefined, follow = true): string {
  const { id: _id, meta: _meta, text: _text, ...content } = r;
  void _id, _meta, _text;
  return JSON.stringify(canonical(content, resolve, follow));
}

async function everything(t: Test, app: Awaited<ReturnType<typeof testApp>>, types: string[]): Promise<Json[]> {
  const out: Json[] = [];
  for (const type of types) {
    const page = (await fhir(app, 'GET', `/fhir/${type}?_count=1000`)).body;
    t.ok(page.total === undefined || page.total <= 1000, `${type}: one page`);
    for (const e of page.entry ?? []) out.push(e.resource);
  }
  return out;
}

const fingerprints = (resources: Json[]) => {
  const byKey = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
  return resources.map((r) => fingerprint(r, (ref) => byKey.get(ref))).sort();
};

for (const [mix, size] of [['all', 0], ['many', 300], ['empty', 1]] as [RecordMix, number][]) {
  t.test(`a summary of a record with ${mix === 'many' ? `${size} resources` : `${mix} sections`}, imported into another server, reproduces its clinical content`, async (t) => {
    const a = await testApp();
    const b = await testApp();
    t.teardown(async () => {
      await a.close();
      await b.close();
    });
    const record = clinicalRecord('p1', mix, size) as unknown as Json[];
    t.equal((await fhir(a, 'POST', '/fhir', recordTransaction(record as unknown as Resource[]))).status, 200);
    const doc = (await fhir(a, 'GET', '/fhir/Patient/p1/$summary')).body;
    const imported = await fhir(b, 'POST', '/fhir/$import-summary', doc);
    t.equal(imported.status, 200);
    t.ok(imported.body.entry.every((e: any) => /^201/.test(e.response.status)), 'every entry created in B');

    const types = [...new Set(record.map((r) => r.resourceType as string))];
    const inA = await everything(t, a, types);
    const inB = await everything(t, b, types);
    t.equal(inB.length, inA.length, `${inA.length} resources on each side`);
    t.same(fingerprints(inB), fingerprints(inA), 'the same content, references pointing at the same content');

    const kept = (await fhir(b, 'GET', '/fhir/Composition')).body.entry[0].resource;
    t.same(kept.section.map((s: any) => s.title), doc.entry[0].resource.section.map((s: any) => s.title), 'the Composition kept, its sections intact');
    const subject = (await fhir(b, 'GET', `/fhir/${kept.subject.reference}`)).body;
    t.equal(subject.identifier[0].value, 'PA-p1', 'its subject is the imported patient');

    const again = await fhir(b, 'POST', '/fhir/$import-summary', doc);
    t.equal(again.status, 200);
    t.ok(again.body.entry.every((e: any) => /^200/.test(e.response.status)), 'imported again: every entry, the Provenance too, found, none created');
    t.equal((await fhir(b, 'GET', '/fhir/Provenance?_summary=count')).body.total, 1, 'one Provenance per document');
    t.equal((await everything(t, b, types)).length, inA.length, 'nothing duplicated');
  });
}

t.test('the comparison notices a change of clinical content', async (t) => {
  const record = clinicalRecord('p1', 'all') as unknown as Json[];
  const changed = structuredClone(record);
  const statement = changed.find((r) => r.resourceType === 'MedicationStatement')!;
  (statement.dosage as Json[])[0].text = '1000 mg twice daily';
  t.not(JSON.stringify(fingerprints(changed)), JSON.stringify(fingerprints(record)), 'a changed dose');
  const retargeted = structuredClone(record);
  const request = retargeted.find((r) => r.resourceType === 'MedicationRequest')!;
  (request.requester as Json).reference = 'Organization/p1-org';
  t.not(JSON.stringify(fingerprints(retargeted)), JSON.stringify(fingerprints(record)), 'a reference to something else');
});
