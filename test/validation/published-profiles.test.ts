// A national profile as published: gematik's ISiKPatient (a SUSHI differential) on HL7
// Deutschland's basisprofil-de-r4 types (SUSHI differentials too), none with a snapshot. They are
// PUT to the server — bases first, and in the wrong order, where the server must use the bases
// once they arrive — or given to `migfhir validate --ig` as two packages, and gematik's example
// Patients validate as the reference validator says: the published examples with no error, and
// each broken copy with the error of the rule it breaks (ISiK's own slices, basisprofil-de's
// hum-1 on the name and gender-amtlich-1 on the gender extension).
// Sources and licences: published/README.md (basisprofil-de is read from a local mirror: it
// states no licence, so it is not copied here).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Patient, StructureDefinition } from 'fhir/r4.js';
import { fhir, testApp } from '../helpers/app.ts';
import { validateCommand } from '../../src/cli/validate.ts';

const GIT = process.env.MIGFHIR_BASISPROFIL_DE_GIT ?? '/work/.mirror/hl7germany+basisprofil-de-r4/repo';
const COMMIT = 'b4658ad5c57349de1a3ab5af0954a33e9673d92d';
const BASIS = ['identifier-pid', 'identifier-kvid-10', 'identifier-iknr', 'identifier-pkv', 'humanname-namenszusatz', 'humanname-de-basis', 'address-de-basis', 'gender-amtlich-de'];
const ISIK = 'https://gematik.de/fhir/isik/StructureDefinition/ISiKPatient';
const available = existsSync(GIT);

function basis(): StructureDefinition[] {
  return BASIS.map((n) => JSON.parse(execFileSync('git', ['--git-dir', GIT, 'show', `${COMMIT}:resources/fsh-generated/resources/StructureDefinition-${n}.json`], { encoding: 'utf8' })) as StructureDefinition);
}
const read = <T>(url: URL) => JSON.parse(readFileSync(url, 'utf8')) as T;
const isik = read<StructureDefinition>(new URL('../mapping/national/published/StructureDefinition-ISiKPatient.json', import.meta.url));
const musterfrau = read<Patient>(new URL('./published/Patient-PatientinMusterfrau.json', import.meta.url));
const minimal = read<Patient>(new URL('./published/Patient-PatientinMusterfrauMinimal.json', import.meta.url));

/** Copies of the example, each breaking one rule, with the error the reference validator gives. */
function broken(): { name: string; patient: Patient; expect: RegExp }[] {
  const noPid = structuredClone(musterfrau);
  noPid.identifier = noPid.identifier!.filter((i) => i.type?.coding?.[0]?.code !== 'MR');
  // basisprofil-de hum-1: a name part in an extension needs the whole family name
  const hum1 = structuredClone(musterfrau);
  delete hum1.name![0].family;
  // basisprofil-de gender-amtlich-1: the official differentiation only with gender 'other'
  const amtlich = structuredClone(minimal);
  amtlich.gender = 'female';
  amtlich._gender = { extension: [{ url: 'http://fhir.de/StructureDefinition/gender-amtlich-de', valueCoding: { system: 'http://fhir.de/CodeSystem/gender-amtlich-de', code: 'D' } }] };
  return [
    { name: 'no patient number', patient: noPid, expect: /Patientennummer/ },
    { name: 'hum-1', patient: hum1, expect: /hum-1/ },
    { name: 'gender-amtlich-1', patient: amtlich, expect: /gender-amtlich-1/ },
  ];
}

const errorsOf = (oo: any): string[] => oo.issue.filter((i: any) => i.severity === 'error' || i.severity === 'fatal').map((i: any) => `${i.expression?.[0]}: ${i.diagnostics}`);

async function put(app: FastifyInstance, sd: StructureDefinition): Promise<void> {
  const id = sd.id ?? sd.name;
  const r = await fhir(app, 'PUT', `/fhir/StructureDefinition/${id}`, { ...sd, id });
  if (r.status !== 200 && r.status !== 201) throw new Error(`PUT ${id}: ${r.status} ${r.raw.slice(0, 300)}`);
}

async function validate(app: FastifyInstance, patient: Patient) {
  return fhir(app, 'POST', `/fhir/Patient/$validate?profile=${encodeURIComponent(ISIK)}`, patient);
}

t.test('ISiKPatient over basisprofil-de-r4, PUT as differentials (bases first)', { skip: available ? false : `no basisprofil-de-r4 mirror at ${GIT}` }, async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  for (const sd of basis()) await put(app, sd);
  await put(app, isik);
  for (const p of [musterfrau, minimal]) {
    const r = await validate(app, p);
    t.equal(r.status, 200);
    t.same(errorsOf(r.body), [], `${p.id}: valid, as gematik publishes it`);
  }
  for (const b of broken()) {
    const r = await validate(app, b.patient);
    t.match(errorsOf(r.body).join('\n'), b.expect, `${b.name}: its error`);
  }
  // the snapshot, as $snapshot returns it: ISiK's slices typed with the German profiles
  const s = await fhir(app, 'GET', `/fhir/StructureDefinition/$snapshot?url=${encodeURIComponent(ISIK)}`);
  t.equal(s.status, 200);
  const pid = s.body.snapshot.element.find((e: any) => e.id === 'Patient.identifier:Patientennummer');
  t.same(pid.type[0].profile, ['http://fhir.de/StructureDefinition/identifier-pid']);
  t.ok(s.body.snapshot.element.some((e: any) => e.id === 'Patient.identifier:Patientennummer.type' && e.min === 1), 'identifier-pid\'s type 1..1 inside ISiK\'s slice');
  // address-de-basis names an extension of hl7.fhir.uv.extensions (iso21090-codedString), which
  // the server now holds (the extensions pack): the snapshot is made in full, without a warning
  t.equal(s.headers.warning, undefined, 'no type profile missing');
});

t.test('ISiKPatient PUT before its bases: usable in part, then in full once they arrive', { skip: available ? false : `no basisprofil-de-r4 mirror at ${GIT}` }, async (t) => {
  const app = await testApp();
  t.teardown(() => app.close());
  await put(app, isik);
  const hum1 = broken().find((b) => b.name === 'hum-1')!.patient;
  let r = await validate(app, hum1);
  t.equal(r.status, 200, 'ISiK\'s own rules apply already');
  t.notMatch(errorsOf(r.body).join('\n'), /hum-1/, 'humanname-de-basis is not here yet');
  t.match(r.body.issue.filter((i: any) => i.severity === 'warning').map((i: any) => i.diagnostics).join('\n'), /type profile http:\/\/fhir\.de\/StructureDefinition\/humanname-de-basis of Patient\.name:Name is not known/, 'and the outcome says what was not checked');
  for (const sd of basis().reverse()) await put(app, sd);
  r = await validate(app, hum1);
  t.match(errorsOf(r.body).join('\n'), /hum-1/, 'the base\'s rule once it arrives');
  r = await validate(app, musterfrau);
  t.same(errorsOf(r.body), [], 'and the published example is valid');
});

t.test('migfhir validate --ig with the two packages as directories', { skip: available ? false : `no basisprofil-de-r4 mirror at ${GIT}` }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'migfhir-isik-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const d of ['de', 'isik', 'in']) mkdirSync(join(dir, d));
  for (const sd of basis()) writeFileSync(join(dir, 'de', `StructureDefinition-${sd.id}.json`), JSON.stringify(sd));
  writeFileSync(join(dir, 'isik', 'StructureDefinition-ISiKPatient.json'), JSON.stringify(isik));
  writeFileSync(join(dir, 'in', 'musterfrau.json'), JSON.stringify(musterfrau));
  writeFileSync(join(dir, 'in', 'minimal.json'), JSON.stringify(minimal));
  const capture = () => {
    let text = '';
    return { write: (s: string) => ((text += s), true), get text() { return text; }, isTTY: false } as any;
  };
  // ISiK first: the package it builds on comes after it on the command line
  let out = capture();
  let err = capture();
  t.equal(await validateCommand([join(dir, 'in'), '--ig', join(dir, 'isik'), '--ig', join(dir, 'de'), '--profile', ISIK], out, err), 0, 'the published examples: exit 0');
  t.notMatch(err.text, /cannot use/, 'every profile usable');
  t.match(err.text, /2 resources, 0 errors/);
  for (const b of broken()) writeFileSync(join(dir, 'in', `${b.name}.json`), JSON.stringify(b.patient));
  out = capture();
  err = capture();
  t.equal(await validateCommand([join(dir, 'in'), '--ig', join(dir, 'isik'), '--ig', join(dir, 'de')], out, err), 1, 'broken copies (meta.profile names ISiK): exit 1');
  for (const b of broken()) t.match((out.text as string).split('\n').filter((l: string) => l.startsWith(join(dir, 'in', `${b.name}.json`)) && l.includes(': error: ')).join('\n'), b.expect, b.name);
  // without basisprofil-de the CLI says what it could not use, naming the missing base
  out = capture();
  err = capture();
  const lonely = { ...isik, url: 'https://example.org/isik-on-missing', baseDefinition: 'http://fhir.de/StructureDefinition/patient-de-basis' };
  writeFileSync(join(dir, 'isik', 'lonely.json'), JSON.stringify(lonely));
  t.equal(await validateCommand([join(dir, 'in', 'minimal.json'), '--ig', join(dir, 'isik'), '--profile', lonely.url], out, err), 2);
  t.match(err.text, /cannot resolve the base http:\/\/fhir\.de\/StructureDefinition\/patient-de-basis/);
});
