// A resource in FHIR's JSON form written as FHIR XML (https://hl7.org/fhir/R4/xml.html): the
// resource type as the root element in the FHIR namespace, children in the definitions' order,
// primitives as `value` attributes with their `_element` id and extensions beside them, choice
// types by their typed names, contained and entry resources inside their wrapper element, and
// the narrative div as the XHTML it already is. One pass, no DOM.
import { FhirError } from '../errors.ts';
import { narrativeError } from '../../validation/narrative.ts';
import { FHIR_NS, xmlModel, type ChildDef, type Context, type XmlModel } from './model.ts';

export interface XmlWriteOptions {
  /** indent by two spaces per level (_pretty=true) */
  pretty?: boolean;
}

// characters that need a reference in an attribute value; tab, LF and CR too, which a reader
// would otherwise normalize to spaces (XML 1.0 §3.3.3)
const ATTRIBUTE_SPECIAL = /[&<>"\t\n\r]/;
// characters XML 1.0 cannot carry at all, even as references
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/;

function escapeAttribute(value: string): string {
  if (NOT_XML.test(value)) {
    throw new FhirError(406, { code: 'not-supported', diagnostics: 'The resource holds a control character that XML 1.0 cannot carry: ask for JSON (_format=json)' });
  }
  if (!ATTRIBUTE_SPECIAL.test(value)) return value;
  return value.replace(/[&<>"\t\n\r]/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : `&#${c.charCodeAt(0)};`,
  );
}

// Narratives known to be one well-formed XHTML div: checking one costs a parse (most of what
// writing a resource with a narrative costs), and the same resources are read again and again.
const CHECKED_NARRATIVES = new Map<string, boolean>();
const CACHE_ENTRIES = 2000;
const CACHE_LONGEST = 64 * 1024;

function wellFormedNarrative(div: string): boolean {
  const known = CHECKED_NARRATIVES.get(div);
  if (known !== undefined) return known;
  const ok = narrativeError(div) === undefined;
  if (div.length <= CACHE_LONGEST) {
    if (CHECKED_NARRATIVES.size >= CACHE_ENTRIES) CHECKED_NARRATIVES.delete(CHECKED_NARRATIVES.keys().next().value!);
    CHECKED_NARRATIVES.set(div, ok);
  }
  return ok;
}

function unknownProperty(prop: string, path: string): FhirError {
  return new FhirError(406, {
    code: 'not-supported',
    diagnostics: `The element '${prop.slice(0, 80)}' at ${path} is not defined in R4, so it has no XML form: ask for JSON (_format=json)`,
  });
}

type Json = Record<string, unknown>;

class Writer {
  readonly #model: XmlModel;
  readonly #pretty: boolean;
  #out = '';

  constructor(model: XmlModel, pretty: boolean) {
    this.#model = model;
    this.#pretty = pretty;
  }

  text(): string {
    return this.#out;
  }

  #indent(depth: number): void {
    if (this.#pretty) this.#out += (this.#out ? '\n' : '') + '  '.repeat(depth);
  }

  resource(resource: Json, depth: number, rootNs: boolean): void {
    const type = resource.resourceType;
    if (typeof type !== 'string' || !this.#model.resourceTypes.has(type)) {
      throw new FhirError(406, { code: 'not-supported', diagnostics: `'${String(type).slice(0, 64)}' is not an R4 resource type, so it has no XML form` });
    }
    const ctx = this.#model.context(type)!;
    this.#indent(depth);
    this.#out += `<${type}${rootNs ? ` xmlns="${FHIR_NS}"` : ''}`;
    this.#content(resource, ctx, type, depth, type, true);
  }

  /** Attributes, then the children in definition order, then the close tag (or `/>`). */
  #content(obj: Json, ctx: Context, name: string, depth: number, path: string, isResource = false): void {
    const entries: [ChildDef, string][] = [];
    for (const key of Object.keys(obj)) {
      // (ExampleScenario.instance has an element of that name)
      if (isResource && key === 'resourceType') continue;
      const value = obj[key];
      if (value === undefined) continue;
      const attribute = ctx.attributes.get(key);
      if (attribute) {
        if (typeof value !== 'string') throw unknownProperty(key, path);
        this.#out += ` ${key}="${escapeAttribute(value)}"`;
        continue;
      }
      const prop = key.charCodeAt(0) === 95 ? key.slice(1) : key;
      const def = ctx.children.get(prop);
      if (!def || (prop !== key && def.kind !== 'primitive')) throw unknownProperty(key, path);
      // a primitive's value and its `_` element make one XML element: written once, from the first seen
      if (prop !== key && obj[prop] !== undefined) continue;
      entries.push([def, prop]);
    }
    if (entries.length === 0) {
      this.#out += '/>';
      return;
    }
    this.#out += '>';
    if (entries.length > 1) entries.sort((a, b) => a[0].order - b[0].order);
    for (const [def, prop] of entries) this.#child(obj, def, prop, depth + 1, `${path}.${prop}`);
    this.#indent(depth);
    this.#out += `</${name}>`;
  }

  #child(obj: Json, def: ChildDef, prop: string, depth: number, path: string): void {
    const value = obj[prop];
    if (def.kind === 'primitive') {
      const meta = obj[`_${prop}`];
      if (def.array) {
        const values = (value ?? []) as unknown[];
        const metas = (meta ?? []) as unknown[];
        if (!Array.isArray(values) || !Array.isArray(metas)) throw unknownProperty(prop, path);
        const n = Math.max(values.length, metas.length);
        for (let i = 0; i < n; i++) this.#primitive(prop, values[i], metas[i] as Json | null | undefined, depth, `${path}[${i}]`);
      } else {
        this.#primitive(prop, value, meta as Json | undefined, depth, path);
      }
      return;
    }
    if (def.kind === 'xhtml') {
      // The narrative is XHTML already: written as it is once known to be one well-formed div
      // in the XHTML namespace (checked on write, unless validation is off — and a malformed
      // one must not become elements of the resource).
      if (typeof value !== 'string' || !wellFormedNarrative(value)) {
        throw new FhirError(406, { code: 'not-supported', diagnostics: `The narrative at ${path} is not FHIR XHTML (one well-formed div of the allowed elements), so it cannot be written as XML: ask for JSON (_format=json)` });
      }
      this.#indent(depth);
      this.#out += value;
      return;
    }
    const items = def.array ? value : [value];
    if (!Array.isArray(items)) throw unknownProperty(prop, path);
    for (let i = 0; i < items.length; i++) {
      const item = items[i] as Json;
      if (item === null || typeof item !== 'object') throw unknownProperty(prop, path);
      const at = def.array ? `${path}[${i}]` : path;
      if (def.kind === 'resource') {
        this.#indent(depth);
        this.#out += `<${prop}>`;
        this.resource(item, depth + 1, false);
        this.#indent(depth);
        this.#out += `</${prop}>`;
      } else {
        const ctx = this.#model.context(def.context);
        if (!ctx) throw unknownProperty(prop, at);
        this.#indent(depth);
        this.#out += `<${prop}`;
        this.#content(item, ctx, prop, depth, at);
      }
    }
  }

  #primitive(prop: string, value: unknown, meta: Json | null | undefined, depth: number, path: string): void {
    if ((value === null || value === undefined) && !meta) return;
    this.#indent(depth);
    this.#out += `<${prop}`;
    if (meta && typeof meta.id === 'string') this.#out += ` id="${escapeAttribute(meta.id)}"`;
    if (value !== null && value !== undefined) {
      if (typeof value === 'object') throw unknownProperty(prop, path);
      this.#out += ` value="${escapeAttribute(String(value))}"`;
    }
    const extensions = meta?.extension;
    if (meta) {
      for (const key of Object.keys(meta)) if (key !== 'id' && key !== 'extension') throw unknownProperty(`_${prop}.${key}`, path);
    }
    if (!Array.isArray(extensions) || extensions.length === 0) {
      this.#out += '/>';
      return;
    }
    this.#out += '>';
    const ctx = this.#model.context('Extension')!;
    extensions.forEach((ext: Json, i) => {
      this.#indent(depth + 1);
      this.#out += '<extension';
      this.#content(ext, ctx, 'extension', depth + 1, `${path}.extension[${i}]`);
    });
    this.#indent(depth);
    this.#out += `</${prop}>`;
  }
}

/** The resource as FHIR XML text (without an XML declaration). */
export function toXml(resource: object, options: XmlWriteOptions = {}): string {
  const w = new Writer(xmlModel(), options.pretty === true);
  w.resource(resource as Json, 0, true);
  return w.text();
}
