// Small builders that keep the profile sources readable: a differential element is written as
// its id plus the constraints, the path and sliceName follow from the id.
import type { ElementDefinition, ElementDefinitionBinding, ElementDefinitionType, StructureDefinition } from 'fhir/r4.js';
import { cs, IG, meta, sd, vs } from '../src/ig/canonical.ts';

const CORE = 'http://hl7.org/fhir/StructureDefinition/';

/** `Patient.identifier:amka.system` → path `Patient.identifier.system`; a last `:x` is the sliceName. */
export function el(id: string, constraints: Partial<ElementDefinition> = {}): ElementDefinition {
  const path = id.split('.').map((s) => s.split(':')[0]).join('.');
  const last = id.split('.').pop()!;
  return { id, path, ...(last.includes(':') ? { sliceName: last.split(':')[1] } : {}), ...constraints };
}

export const required = (valueSet: string): ElementDefinitionBinding => ({ strength: 'required', valueSet });
export const extensible = (valueSet: string): ElementDefinitionBinding => ({ strength: 'extensible', valueSet });
export const ours = vs;
export const ref = (...targets: string[]): ElementDefinitionType[] => [{ code: 'Reference', targetProfile: targets.map((t) => (t.includes('/') ? t : `${CORE}${t}`)) }];
export const ext = (url: string): ElementDefinitionType[] => [{ code: 'Extension', profile: [url.includes('/') ? url : `${CORE}${url}`] }];

/** The security labels an element carries: the server labels and redacts them (src/auth/sensitive.ts). */
export const SECURITY_LABEL = sd('element-security-label');
export const sensitive = { extension: [{ url: SECURITY_LABEL, valueCoding: { system: cs('sensitivity'), code: 'migration' } }] };

export function profile(id: string, name: string, title: string, type: string, description: string, elements: ElementDefinition[], base = `${CORE}${type}`): StructureDefinition {
  return {
    ...meta('StructureDefinition', id, name, description, title),
    fhirVersion: IG.fhirVersion,
    kind: 'resource',
    abstract: false,
    type,
    baseDefinition: base,
    derivation: 'constraint',
    differential: { element: [el(type, { short: title }), ...elements] },
  } as StructureDefinition;
}

export interface Part {
  name: string;
  min: number;
  max: string;
  type: ElementDefinitionType[];
  short: string;
  binding?: ElementDefinitionBinding;
  /** sub-extensions of a nested complex part */
  parts?: Part[];
}

function partElements(prefix: string, parts: Part[]): ElementDefinition[] {
  const out: ElementDefinition[] = [];
  for (const p of parts) {
    const id = `${prefix}.extension:${p.name}`;
    out.push(el(id, { short: p.short, definition: p.short, min: p.min, max: p.max }));
    if (p.parts) {
      out.push(...partElements(id, p.parts));
      out.push(el(`${id}.url`, { fixedUri: p.name }), el(`${id}.value[x]`, { max: '0' }));
    } else {
      out.push(el(`${id}.extension`, { max: '0' }), el(`${id}.url`, { fixedUri: p.name }), el(`${id}.value[x]`, { min: 1, type: p.type, ...(p.binding ? { binding: p.binding } : {}) }));
    }
  }
  return out;
}

export interface ExtensionSpec {
  id: string;
  name: string;
  title: string;
  description: string;
  /** element paths it may be used on */
  context: string[];
  max?: string;
  /** a simple extension's value */
  value?: { type: ElementDefinitionType[]; binding?: ElementDefinitionBinding };
  parts?: Part[];
  sensitive?: boolean;
  constraint?: ElementDefinition['constraint'];
}

export function extension(s: ExtensionSpec): StructureDefinition {
  const url = sd(s.id);
  const elements: ElementDefinition[] = [
    el('Extension', { short: s.title, definition: s.description, max: s.max ?? '*', ...(s.sensitive ? sensitive : {}), ...(s.constraint ? { constraint: s.constraint } : {}) }),
  ];
  if (s.parts) elements.push(...partElements('Extension', s.parts), el('Extension.url', { fixedUri: url }), el('Extension.value[x]', { max: '0' }));
  else elements.push(el('Extension.extension', { max: '0' }), el('Extension.url', { fixedUri: url }), el('Extension.value[x]', { min: 1, type: s.value!.type, ...(s.value!.binding ? { binding: s.value!.binding } : {}) }));
  return {
    ...meta('StructureDefinition', s.id, s.name, s.description, s.title),
    fhirVersion: IG.fhirVersion,
    kind: 'complex-type',
    abstract: false,
    context: s.context.map((expression) => ({ type: 'element', expression })),
    type: 'Extension',
    baseDefinition: `${CORE}Extension`,
    derivation: 'constraint',
    differential: { element: elements },
  } as StructureDefinition;
}
