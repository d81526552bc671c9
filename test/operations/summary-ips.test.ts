// Patient/$summary checked against the International Patient Summary itself: hl7.fhir.uv.ips
// 2.0.0 loaded into our validator (test/helpers/ips.ts). For generated records of several
// clinical mixes (scripts/clinical-record.ts) the document must have no error against the IPS
// Bundle profile, every entry none against its own IPS profile, and what the validator does not
// evaluate — references resolved inside the Bundle, the Composition's section entries by
// profile (`resolve()` discriminators) — is checked here from the package's own definitions.
import t from 'tap';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StructureDefinition } from 'fhir/r4.js';
import type { IssueInput } from '../../src/fhir/errors.ts';
import { clinicalRecord, recordTransaction, type RecordMix } from '../../scripts/clinical-record.ts';
import { fhir, testApp } from '../helpers/app.ts';
import { IPS, IPS_PACKAGE_DIR, ipsValidator } from '../helpers/ips.ts';

/** Errors of our validator we believe to be wrong, with the reason; none so far. Each is
 * matched by resource type, FHIRPath location and message fragment. */
const KNOWN_FALSE_ERRORS: { type: string; expression: RegExp; message: string; reason: string }[] = [];

const { validator, loaded, unusable } = ipsValidator();
const errors = (r: unknown, profiles: string[] = []) =>
  validator.validate(r, { profiles }).filter((i) => (i.severity === 'error' || i.severity === 'fatal') && !known((r as { resourceType: string }).resourceType, i));
const known = (type: string, i: IssueInput) => KNOWN_FALSE_ERRORS.some((k) => k.type === type && k.expression.test(i.expression?.[0] ?? '') && i.diagnostics.includes(k.message));
const show = (issues: IssueInput[]) => issues.slice(0, 10).map((i) => `${i.expression?.[0]}: ${i.diagnostics.slice(0, 200)}`);

/** Composition-uv-ips: section code → the profiles its entries may claim (from the package). */
function sectionTargets(): Map<string, Set<string>> {
  const sd = JSON.parse(readFileSync(join(IPS_PACKAGE_DIR, 'StructureDefinition-Composition-uv-ips.json'), 'utf8')) as StructureDefinition;
  const out = new Map<string, Set<string>>();
  for (const e of sd.snapshot!.element) {
    const code = (e as { patternCodeableConcept?: { coding: { code: string }[] } }).patternCodeableConcept?.coding[0].code;
    if (e.path === 'Composition.section.code' && code) {
      const slice = /^Composition\.section:([A-Za-z]+)\.code$/.exec(e.id!)![1];
      const targets = new Set<string>();
      for (const x of sd.snapshot!.element) {
        if (x.id?.startsWith(`Composition.section:${slice}.entry:`) && x.path === 'Composition.section.entry') for (const ty of x.type ?? []) for (const p of ty.targetProfile ?? []) targets.add(p);
      }
      out.set(code, targets);
    }
  }
  return out;
}
const TARGETS = sectionTargets();
const REQUIRED = ['11450-4', '48765-2', '10160-0'];

function references(value: unknown, out: string[] = []): string[] {
  if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push(v);
      else references(v, out);
    }
  }
  return out;
}

async function summaryOf(mix: RecordMix, size = 500) {
  const app = await testApp();
  const tx = await fhir(app, 'POST', '/fhir', recordTransaction(clinicalRecord('p1', mix, size)));
  if (tx.status !== 200) throw new Error(`seeding failed: ${tx.raw.slice(0, 500)}`);
  const res = await fhir(app, 'GET', '/fhir/Patient/p1/$summary');
  await app.close();
  return res;
}

t.test('the IPS package loads into the validator', async (t) => {
  t.equal(loaded.profiles, 32, 'every StructureDefinition of hl7.fhir.uv.ips 2.0.0');
  t.ok(loaded.terminology >= 36, 'its value sets');
  t.same(unusable, [], 'every profile can be used: those without a snapshot got one generated');
  t.ok(validator.profiles.get(`${IPS}Bundle-uv-ips`), 'the Bundle profile compiles');
});

for (const [mix, size] of [['empty', 1], ['all', 0], ['many', 500]] as [RecordMix, number][]) {
  t.test(`$summary of a record with ${mix === 'many' ? `${size} resources` : `${mix} sections`} is a valid IPS document`, async (t) => {
    const res = await summaryOf(mix, size);
    t.equal(res.status, 200);
    const doc = res.body;
    const bundleErrors = errors(doc, [`${IPS}Bundle-uv-ips`]);
    t.same(show(bundleErrors), [], 'no error against Bundle-uv-ips');

    t.match(doc.identifier, { system: 'urn:ietf:rfc:3986', value: /^urn:uuid:/ }, 'Bundle.identifier');
    t.match(doc.timestamp, /^\d{4}-\d\d-\d\dT/, 'Bundle.timestamp');
    t.equal(doc.entry[0].resource.resourceType, 'Composition', 'the Composition first');
    t.equal(doc.entry.filter((e: any) => e.resource.resourceType === 'Patient').length, 1, 'one Patient');

    const byUrl = new Map<string, any>(doc.entry.map((e: any) => [e.fullUrl, e.resource]));
    t.equal(byUrl.size, doc.entry.length, 'fullUrls are unique');
    const dangling = references(doc.entry.map((e: any) => e.resource)).filter((r) => !r.startsWith('#') && !byUrl.has(r));
    t.same(dangling, [], 'every reference resolves inside the Bundle');

    let checked = 0;
    for (const e of doc.entry) {
      const r = e.resource;
      const profile = r.meta?.profile?.[0];
      if (!profile) {
        t.ok(['ServiceRequest', 'QuestionnaireResponse', 'Device'].includes(r.resourceType), `${r.resourceType} has no IPS profile to declare`);
        continue;
      }
      const found = errors(r);
      if (found.length) t.fail(`${r.resourceType} ${e.fullUrl} against ${profile}`, { found: show(found) });
      else checked++;
    }
    t.ok(checked >= 2, `${checked} entries without error against their declared IPS profile`);

    const comp = doc.entry[0].resource;
    t.equal(byUrl.get(comp.subject.reference)?.resourceType, 'Patient');
    const codes = comp.section.map((s: any) => s.code.coding[0].code);
    for (const c of REQUIRED) t.ok(codes.includes(c), `required section ${c}`);
    t.ok(codes.includes('migration-context'), 'the migration-context section');
    for (const s of comp.section) {
      t.match(s.text, { status: 'generated', div: /^<div xmlns="http:\/\/www.w3.org\/1999\/xhtml">.*<\/div>$/ }, `${s.title}: narrative`);
      const allowed = TARGETS.get(s.code.coding[0].code);
      // an IPS section has entries or says why not; ours always has its narrative (cmp-1)
      if (allowed) t.ok(Boolean(s.entry?.length) !== Boolean(s.emptyReason), `${s.title}: entries or an emptyReason, not both`);
      else t.notOk(s.emptyReason, `${s.title}: no emptyReason, the narrative holds the migration context`);
      for (const ref of s.entry ?? []) {
        const target = byUrl.get(ref.reference);
        if (!allowed) continue; // our own section
        const claimed = target?.meta?.profile?.[0];
        t.ok(claimed && allowed.has(claimed), `${s.title}: ${target?.resourceType} claims ${claimed}`, { allowed: [...allowed] });
      }
    }
    if (mix === 'empty') {
      for (const c of REQUIRED) t.equal(comp.section.find((s: any) => s.code.coding[0].code === c).emptyReason.coding[0].code, 'unavailable');
      const patient = doc.entry[1].resource;
      t.equal(patient._birthDate.extension[0].url, 'http://hl7.org/fhir/StructureDefinition/data-absent-reason', 'an unknown birth date is stated absent');
    }
    if (mix !== 'empty') {
      t.ok(codes.includes('11369-6') && codes.includes('30954-2') && codes.includes('47519-4') && codes.includes('10162-6') && codes.includes('8716-3'), 'recommended sections with data');
      const migration = comp.section.find((s: any) => s.code.coding[0].code === 'migration-context');
      t.match(migration.text.div, /Arabic \(preferred\).*interpreter is required.*Country of origin: SY.*transit: TR/);
      t.match(migration.text.div, /phq-9.*total score 11/);
    }
    if (mix === 'many') t.ok(doc.entry.length > 450, `${doc.entry.length} entries`);
  });
}

t.test("the summaries of the migrant-health IG's example patients are valid IPS documents", async (t) => {
  const dir = join(import.meta.dirname, '..', '..', 'ig', 'package', 'example');
  const app = await testApp();
  t.teardown(() => app.close());
  for (const f of readdirSync(dir).filter((f) => f.startsWith('Patient-'))) {
    const patient = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    t.equal((await fhir(app, 'PUT', `/fhir/Patient/${patient.id}`, patient)).status, 201, f);
    const doc = (await fhir(app, 'GET', `/fhir/Patient/${patient.id}/$summary`)).body;
    t.same(show(errors(doc, [`${IPS}Bundle-uv-ips`])), [], `${f}: no error against Bundle-uv-ips`);
    const migration = doc.entry[0].resource.section.find((s: any) => s.code.coding[0].code === 'migration-context');
    t.match(migration.text.div, /Migration status: asylum-applicant/, `${f}: the migration status in the narrative`);
  }
});

t.test('the IPS checks are not vacuous: a broken document fails them', async (t) => {
  const doc = (await summaryOf('all')).body;
  const broken = (change: (d: any) => void) => {
    const d = structuredClone(doc);
    change(d);
    return d;
  };
  const entry = (d: any, type: string) => d.entry.find((e: any) => e.resource.resourceType === type).resource;
  t.ok(errors(broken((d) => delete d.identifier), [`${IPS}Bundle-uv-ips`]).length, 'without identifier');
  t.ok(errors(broken((d) => d.entry.push(d.entry.shift())), [`${IPS}Bundle-uv-ips`]).length, 'Composition last');
  t.ok(errors(broken((d) => entry(d, 'Composition').section.splice(1, 1)), [`${IPS}Bundle-uv-ips`]).length, 'without the allergies section');
  t.ok(errors(entry(broken((d) => delete entry(d, 'Condition').code), 'Condition')).length, 'R4 allows a Condition without code, its IPS profile does not');
  t.ok(errors(broken((d) => delete entry(d, 'Condition').code), [`${IPS}Bundle-uv-ips`]).length, 'an entry breaking its declared profile fails the document');
  t.ok(errors(entry(broken((d) => delete entry(d, 'MedicationStatement')._effectiveDateTime), 'MedicationStatement')).length, 'MedicationStatement needs effective[x]');
});
