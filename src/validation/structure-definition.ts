// What the reference validator says about a StructureDefinition itself, beyond what every
// resource gets (its shape, ElementDefinition's invariants such as eld-1 "no discriminators
// needs a description"): a differential that cannot be applied to its base (a base it cannot
// resolve, a path that is no element of the base, a constraint that breaks the base — each named
// by element id), what its snapshot would be made without (type profiles not held), a snapshot
// that disagrees with the one its differential generates, element ids that do not spell their
// paths, and value/pattern discriminators that leave a slice without the value that selects it.
// The R4 specification's own definitions (hl7.org/fhir/StructureDefinition/…) are taken as
// published: their snapshots come from R4's generator, whose known departures are listed in
// test/validation/snapshot.test.ts.
import type { ElementDefinition, StructureDefinition } from 'fhir/r4.js';
import type { IssueInput } from '../fhir/errors.ts';
import { CORE, compileProfile, type CompiledProfile, type ElementNode, type ProfileRegistry } from './profiles.ts';
import { definitionsAt } from './slicing.ts';
import { SnapshotError } from './snapshot.ts';

type Where = 'differential' | 'snapshot';

/** `Patient.identifier:pid.system` → `Patient.identifier.system` (re-slices `a:b/c` too) */
function pathOfId(id: string): string {
  return id.split('.').map((s) => s.split(':')[0]).join('.');
}

/** what the comparison looks at; canonicals without their |version (generators differ there) */
function summary(e: ElementDefinition): string {
  const c = (url: string) => url.split('|')[0];
  const types = (e.type ?? []).map((t) => `${t.code}${t.profile?.length ? `(${t.profile.map(c).join(',')})` : ''}${t.targetProfile?.length ? `->${t.targetProfile.map(c).join(',')}` : ''}`).join('|');
  return `${e.min}..${e.max} ${types} ${e.binding ? `${e.binding.strength}:${c(e.binding.valueSet ?? '')}` : ''}`.trim();
}

function ids(sd: StructureDefinition, where: Where, issues: IssueInput[]): void {
  (sd[where]?.element ?? []).forEach((e, i) => {
    if (typeof e.id !== 'string' || typeof e.path !== 'string') return;
    if (pathOfId(e.id) !== e.path) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The element id '${e.id.slice(0, 200)}' does not match its path '${e.path.slice(0, 200)}'`, expression: [`StructureDefinition.${where}.element[${i}].id`] });
    }
    if (sd.derivation === 'constraint' && typeof sd.type === 'string' && e.path.split('.')[0] !== sd.type) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The path '${e.path.slice(0, 200)}' is not in a definition of ${sd.type}`, expression: [`StructureDefinition.${where}.element[${i}].path`] });
    }
  });
}

/** Where in the request an element id is written: its differential element, else the root. */
function locate(sd: StructureDefinition, message: string): string {
  const diff = sd.differential?.element ?? [];
  let best = -1;
  diff.forEach((e, i) => {
    if (e.id && message.includes(`${e.id} `) && (best < 0 || e.id.length > diff[best].id!.length)) best = i;
  });
  return best >= 0 ? `StructureDefinition.differential.element[${best}]` : 'StructureDefinition.differential';
}

/** The provided snapshot against the generated one: what the differential does not say. */
function compare(given: ElementDefinition[], generated: ElementDefinition[], issues: IssueInput[]): void {
  if (given.length !== generated.length) {
    issues.push({ severity: 'error', code: 'invalid', diagnostics: `The snapshot has ${given.length} elements, but the differential applied to the base generates ${generated.length}`, expression: ['StructureDefinition.snapshot'] });
  }
  const byId = new Map(generated.map((e) => [e.id, e]));
  given.forEach((e, i) => {
    const g = byId.get(e.id);
    if (!g) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The snapshot element '${String(e.id).slice(0, 200)}' is not generated from the differential and the base`, expression: [`StructureDefinition.snapshot.element[${i}]`] });
    } else if (summary(e) !== summary(g)) {
      issues.push({ severity: 'error', code: 'invalid', diagnostics: `The snapshot element '${String(e.id).slice(0, 200)}' (${summary(e)}) differs from what the differential and the base generate (${summary(g)})`, expression: [`StructureDefinition.snapshot.element[${i}]`] });
    }
  });
}

const selects = (defs: ElementNode[]) => defs.some((x) => x.fixed !== undefined || x.pattern !== undefined || x.binding?.strength === 'required');

/** A value/pattern discriminator selects a slice by the value the slice fixes at its path. */
function discriminators(profile: CompiledProfile, sd: StructureDefinition, profiles: ProfileRegistry, issues: IssueInput[]): void {
  const where = (id: string): string => {
    const d = (sd.differential?.element ?? []).findIndex((e) => e.id === id);
    if (d >= 0) return `StructureDefinition.differential.element[${d}]`;
    return `StructureDefinition.snapshot.element[${(sd.snapshot?.element ?? []).findIndex((e) => e.id === id)}]`;
  };
  const visit = (node: ElementNode): void => {
    if (node.slicing) {
      for (const d of node.slicing.discriminator) {
        // values behind resolve() are the target profiles' to fix
        if ((d.type !== 'value' && d.type !== 'pattern') || d.path.includes('resolve()')) continue;
        for (const slice of node.slices) {
          // an extension slice is selected by its profile's url
          if (d.path === 'url' && slice.types.some((t) => t.code === 'Extension' && t.profiles?.length)) continue;
          if (selects(definitionsAt(profile, slice, d.path))) continue;
          // or by what the slice's type profile fixes there; one not held cannot be checked
          const typed = slice.types.flatMap((t) => t.profiles ?? []);
          if (typed.some((url) => {
            const p = profiles.get(url);
            return !p || selects(definitionsAt(p, p.root, d.path));
          })) continue;
          issues.push({
            severity: 'error', code: 'invalid',
            diagnostics: `The slice '${slice.id}' has no fixed value, pattern or required binding at the discriminator ${d.type}:${d.path} of ${node.id}, so no instance can be sorted into it`,
            expression: [where(slice.id)],
          });
        }
      }
    }
    for (const c of node.children) visit(c);
    for (const s of node.slices) visit(s);
  };
  visit(profile.root);
}

export function checkStructureDefinition(resource: unknown, profiles: ProfileRegistry): IssueInput[] {
  const sd = resource as StructureDefinition;
  if (typeof sd?.url !== 'string' || sd.url.startsWith(CORE)) return [];
  const issues: IssueInput[] = [];
  ids(sd, 'differential', issues);
  ids(sd, 'snapshot', issues);
  if (issues.length) return issues;
  let withSnapshot: StructureDefinition | undefined = sd.snapshot?.element?.length ? sd : undefined;
  if (sd.derivation === 'constraint' && sd.baseDefinition && sd.differential?.element?.length) {
    try {
      const { sd: generated, warnings } = profiles.generate(sd);
      for (const w of warnings) issues.push({ severity: 'warning', code: 'not-found', diagnostics: w, expression: [locate(sd, w)] });
      if (sd.snapshot?.element?.length) compare(sd.snapshot.element, generated.snapshot!.element, issues);
      withSnapshot ??= generated;
    } catch (err) {
      if (!(err instanceof SnapshotError)) throw err;
      issues.push({ severity: 'error', code: 'processing', diagnostics: `The snapshot cannot be generated: ${err.message}`, expression: [locate(sd, err.message)] });
      return issues;
    }
  }
  if (withSnapshot) {
    let compiled: CompiledProfile | undefined;
    try {
      compiled = compileProfile(withSnapshot);
    } catch {
      compiled = undefined;
    }
    if (compiled) discriminators(compiled, sd, profiles, issues);
  }
  return issues;
}
