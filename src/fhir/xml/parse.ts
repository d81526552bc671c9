// FHIR XML (https://hl7.org/fhir/R4/xml.html) read into FHIR's JSON form with the sax streaming
// parser (strict, namespaces on, XML's five entities only), guided by the R4 definitions
// (model.ts): the root element names the resource type, `value` attributes become JSON values
// of the element's type (numbers and booleans typed), `id` attributes and extensions of a
// primitive go to its `_element`, arrays wherever the cardinality allows repeats, contained and
// entry resources unwrapped, and the narrative div kept as the exact XHTML text it was sent as.
// Refused with 400, before anything is stored: a DTD (and so any entity declaration, external
// entity or entity expansion), entities other than XML's own, elements outside the FHIR
// namespace (the div outside XHTML), unknown elements or attributes, text where FHIR has
// none, nesting deeper than the JSON limit, and more attributes on one element than any needs.
import sax from 'sax';
import { badRequest, FhirError } from '../errors.ts';
import { FHIR_NS, isNumberType, XHTML_NS, xmlModel, type ChildDef, type Context, type XmlModel } from './model.ts';

export interface XmlReadOptions {
  /** deepest element nesting accepted (the server's JSON depth limit) */
  maxDepth?: number;
  /** record where each element of each resource read was (xmlPositions), for $validate */
  positions?: boolean;
}

export interface Position {
  line: number;
  col: number;
}

/** For resources read with `positions`: each element's FHIRPath within that resource (rooted at
 * its type: Patient.name[1].use) → its line and column (1-based) in the XML sent. Kept beside
 * the resource objects, so a resource taken out of a Parameters or Bundle keeps its own. */
export const xmlPositions = new WeakMap<object, Map<string, Position>>();

type Json = Record<string, unknown>;

// what a character reference could smuggle in that XML 1.0 does not allow (and JSON bodies
// refuse too): C0 controls other than tab/LF/CR, and lone surrogates (&#xD800;)
const NOT_XML_TEXT = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/u;

const MAX_ATTRIBUTES = 64;
const MAX_NAME = 256;
const DECIMAL = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;
const INTEGER = /^-?(0|[1-9][0-9]*)$/;

interface PrimitiveList {
  values: unknown[];
  metas: (Json | null)[];
}

interface Frame {
  kind: 'resource' | 'complex' | 'primitive' | 'wrapper' | 'xhtml';
  parent: Frame | undefined;
  /** the child's definition in its parent (absent at the root and for a wrapped resource) */
  def: ChildDef | undefined;
  /** its index when its element repeats */
  index: number | undefined;
  ctx: Context | undefined;
  obj: Json;
  /** primitive: its value; wrapper: the resource it holds */
  value: unknown;
  /** complex and resource frames: their repeating primitives, put in place on close */
  lists: Map<string, PrimitiveList> | undefined;
  /** xhtml: where its start tag began, and how deep inside it the parser is */
  start: number;
  depth: number;
}

function frame(kind: Frame['kind'], parent: Frame | undefined, def: ChildDef | undefined, ctx: Context | undefined, obj: Json, index?: number): Frame {
  return { kind, parent, def, index, ctx, obj, value: undefined, lists: undefined, start: 0, depth: 0 };
}

/** The FHIRPath of a frame from the root resource (Bundle.entry[2].resource.name[0]), or with
 * `local` from the resource it is in (Patient.name[0]). */
function pathOf(f: Frame | undefined, local = false): string {
  if (!f) return '';
  if (f.kind === 'resource') return f.parent && !local ? pathOf(f.parent) : String(f.obj.resourceType);
  const name = f.def?.prop ?? '';
  return `${pathOf(f.parent, local)}.${name}${f.index !== undefined ? `[${f.index}]` : ''}`;
}

/** The resource frame a frame is in. */
function resourceOf(f: Frame): Frame {
  let r = f;
  while (r.kind !== 'resource' && r.parent) r = r.parent;
  return r;
}

class Reader {
  readonly #model: XmlModel;
  readonly #text: string;
  readonly #parser: sax.SAXParser;
  readonly #maxDepth: number;
  readonly #positions: boolean;
  #top: Frame | undefined;
  #depth = 0;
  #root: Json | undefined;

  constructor(model: XmlModel, text: string, options: XmlReadOptions) {
    this.#model = model;
    this.#text = text;
    this.#maxDepth = options.maxDepth ?? 100;
    this.#positions = options.positions === true;
    const p = (this.#parser = sax.parser(true, { xmlns: true, position: true, strictEntities: true } as sax.SAXOptions));
    p.onerror = (err) => {
      throw this.#fail(`The XML is not well-formed: ${err.message.split('\n')[0]}`);
    };
    p.ondoctype = () => {
      throw this.#fail('A DOCTYPE is not allowed in FHIR XML (no DTDs, entity declarations or external entities)', 'security');
    };
    (p as unknown as { onsgmldeclaration: () => void }).onsgmldeclaration = () => {
      throw this.#fail('SGML declarations are not allowed in FHIR XML', 'security');
    };
    p.onprocessinginstruction = (pi) => {
      if (pi.name === 'xml') {
        const encoding = /encoding\s*=\s*["']([^"']*)["']/.exec(pi.body)?.[1];
        if (encoding && !/^utf-?8$/i.test(encoding)) throw this.#fail(`The XML declares the encoding ${encoding.slice(0, 40)}: FHIR XML is sent as UTF-8`);
      }
    };
    p.onopentag = (tag) => this.#open(tag as sax.QualifiedTag);
    p.onclosetag = () => this.#close();
    p.ontext = (text) => this.#textNode(text);
    p.oncdata = (text) => this.#textNode(text === '' ? ' ' : text, true);
  }

  read(): Json {
    const text = this.#text.charCodeAt(0) === 0xfeff ? ' ' + this.#text.slice(1) : this.#text;
    this.#parser.write(text).close();
    if (!this.#root) throw badRequest('The XML body holds no FHIR resource', 'structure');
    return this.#root;
  }

  #fail(message: string, code: 'structure' | 'security' | 'invalid' | 'too-long' | 'value' = 'structure', at?: Frame): FhirError {
    const where = pathOf(at ?? this.#top);
    return badRequest(`${message} (line ${this.#parser.line + 1}, column ${this.#parser.column}${where ? `, at ${where}` : ''})`, code, where ? [where] : undefined);
  }

  #textNode(text: string, cdata = false): void {
    const top = this.#top;
    if (top?.kind === 'xhtml') return;
    if (!cdata && /^\s*$/.test(text)) return;
    throw this.#fail(top ? 'FHIR elements hold no text: values are given in value attributes' : 'Text outside the resource element');
  }

  #open(tag: sax.QualifiedTag): void {
    const parent = this.#top;
    if (++this.#depth > this.#maxDepth) throw this.#fail(`The XML body nests deeper than ${this.#maxDepth} levels`, 'too-long');
    const attributes = tag.attributes as Record<string, sax.QualifiedAttribute>;
    let count = 0;
    for (const name in attributes) {
      if (++count > MAX_ATTRIBUTES || name.length > MAX_NAME) throw this.#fail(`The element <${tag.name.slice(0, 64)}> has more or longer attributes than FHIR XML needs`, 'too-long');
    }
    if (parent?.kind === 'xhtml') {
      if (tag.uri !== XHTML_NS) throw this.#fail(`The element <${tag.name.slice(0, 64)}> inside the narrative is not in the XHTML namespace`);
      parent.depth++;
      return;
    }
    if (!parent || parent.kind === 'wrapper') {
      this.#openResource(tag, parent);
      return;
    }
    if (tag.uri !== FHIR_NS && !(tag.uri === XHTML_NS && tag.local === 'div')) {
      throw this.#fail(`The element <${tag.name.slice(0, 64)}> is not in the FHIR namespace (${FHIR_NS})`);
    }
    if (parent.kind === 'primitive' && tag.local !== 'extension') {
      throw this.#fail(`A primitive element holds only extensions, not <${tag.local.slice(0, 64)}>`);
    }
    const def = parent.kind === 'primitive' ? this.#extensionDef() : parent.ctx?.children.get(tag.local);
    if (!def) throw this.#fail(`Unknown element <${tag.local.slice(0, 64)}>`);
    if ((def.kind === 'xhtml') !== (tag.uri === XHTML_NS)) {
      throw this.#fail(def.kind === 'xhtml' ? `The narrative <${tag.local}> must be in the XHTML namespace (${XHTML_NS})` : `The element <${tag.local.slice(0, 64)}> is not in the FHIR namespace`);
    }
    const index = this.#claim(parent, def);
    if (def.kind === 'xhtml') {
      if (tag.prefix !== '' || !('xmlns' in attributes)) throw this.#fail(`The narrative div must declare its namespace itself: <div xmlns="${XHTML_NS}">`);
      const f = frame('xhtml', parent, def, undefined, parent.obj, index);
      f.start = this.#parser.startTagPosition - 1;
      this.#push(f);
      return;
    }
    if (def.kind === 'resource') {
      this.#attributes(tag, undefined);
      this.#push(frame('wrapper', parent, def, undefined, parent.obj, index));
      return;
    }
    if (def.kind === 'primitive') {
      const f = frame('primitive', parent, def, undefined, {}, index);
      this.#push(f);
      for (const a of Object.values(attributes)) {
        if (isDeclaration(a)) continue;
        if (a.name === 'value') f.value = this.#value(def.type, a.value);
        else if (a.name === 'id') {
          this.#checkText(a.value);
          f.obj.id = a.value;
        }
        else throw this.#fail(`Unknown attribute ${a.name.slice(0, 64)} on a primitive element`);
      }
      return;
    }
    const childCtx = this.#model.context(def.context);
    if (!childCtx) throw this.#fail(`Unknown type ${def.type}`);
    const f = frame('complex', parent, def, childCtx, {}, index);
    this.#push(f);
    this.#attributes(tag, childCtx.attributes, f.obj);
  }

  #extensionDef(): ChildDef {
    return this.#model.context('Element')!.children.get('extension')!;
  }

  #openResource(tag: sax.QualifiedTag, parent: Frame | undefined): void {
    if (tag.uri !== FHIR_NS) throw this.#fail(`The resource <${tag.name.slice(0, 64)}> is not in the FHIR namespace (${FHIR_NS})`);
    if (parent && parent.value !== undefined) throw this.#fail('A resource wrapper holds one resource');
    if (!parent && this.#root) throw this.#fail('The XML body holds more than one resource');
    const ctx = this.#model.resourceTypes.has(tag.local) ? this.#model.context(tag.local) : undefined;
    if (!ctx) throw this.#fail(`Unknown resource type ${tag.local.slice(0, 64)}`);
    this.#attributes(tag, undefined);
    this.#push(frame('resource', parent, undefined, ctx, { resourceType: tag.local }));
  }

  /** The attributes of a complex element (Element.id, Extension.url); nothing else is allowed. */
  #attributes(tag: sax.QualifiedTag, allowed: ReadonlyMap<string, ChildDef> | undefined, into?: Json): void {
    for (const a of Object.values(tag.attributes as Record<string, sax.QualifiedAttribute>)) {
      if (isDeclaration(a)) continue;
      if (a.uri === '' && allowed?.has(a.name) && into) {
        this.#checkText(a.value);
        into[a.name] = a.value;
      }
      else throw this.#fail(`Unknown attribute ${a.name.slice(0, 64)} on <${tag.local.slice(0, 64)}>`);
    }
  }

  /** Checks a singleton appears once (one choice type per choice element) and gives a repeat's index. */
  #claim(parent: Frame, def: ChildDef): number | undefined {
    const obj = parent.obj;
    if (def.array) {
      if (def.kind === 'primitive') return this.#list(parent, def.prop).values.length;
      const list = obj[def.prop] as unknown[] | undefined;
      return list ? list.length : 0;
    }
    const taken = def.prop === def.element
      ? obj[def.prop] !== undefined || obj[`_${def.prop}`] !== undefined
      : Object.keys(obj).some((k) => parent.ctx?.children.get(k.charCodeAt(0) === 95 ? k.slice(1) : k)?.element === def.element);
    if (taken) throw this.#fail(`The element ${def.element} appears more than once, but does not repeat`);
    return undefined;
  }

  #list(parent: Frame, prop: string): PrimitiveList {
    parent.lists ??= new Map();
    let list = parent.lists.get(prop);
    if (!list) {
      list = { values: [], metas: [] };
      parent.lists.set(prop, list);
      // the values' array takes its place among the keys now; emptied ones are removed on close
      parent.obj[prop] = list.values;
    }
    return list;
  }

  #value(type: string, text: string): unknown {
    if (text === '') throw this.#fail('An empty value attribute is not allowed: leave the attribute out', 'value');
    this.#checkText(text);
    if (type === 'boolean') {
      if (text === 'true') return true;
      if (text === 'false') return false;
      throw this.#fail(`'${text.slice(0, 40)}' is not a boolean`, 'value');
    }
    if (isNumberType(type)) {
      if (!(type === 'decimal' ? DECIMAL : INTEGER).test(text)) throw this.#fail(`'${text.slice(0, 40)}' is not a valid ${type}`, 'value');
      const n = Number(text);
      if (!Number.isFinite(n)) throw this.#fail(`'${text.slice(0, 40)}' is beyond the range of a number`, 'value');
      return n;
    }
    return text;
  }

  #checkText(text: string): void {
    if (NOT_XML_TEXT.test(text)) throw this.#fail('A value holds a character XML 1.0 does not allow (a control character or a lone surrogate)', 'value');
  }

  #push(f: Frame): void {
    this.#top = f;
    if (!this.#positions) return;
    const resource = resourceOf(f).obj;
    let map = xmlPositions.get(resource);
    if (!map) xmlPositions.set(resource, (map = new Map()));
    map.set(pathOf(f, true), { line: this.#parser.line + 1, col: this.#parser.column });
  }

  #close(): void {
    const f = this.#top!;
    this.#depth--;
    if (f.kind === 'xhtml' && f.depth > 0) {
      f.depth--;
      return;
    }
    this.#top = f.parent;
    const parent = f.parent;
    switch (f.kind) {
      case 'xhtml':
        parent!.obj[f.def!.prop] = this.#text.slice(f.start, this.#parser.position);
        return;
      case 'primitive': {
        const def = f.def!;
        const meta = Object.keys(f.obj).length ? f.obj : null;
        if (f.value === undefined && !meta) throw this.#fail('A primitive element needs a value attribute, an id or extensions', 'value', f);
        if (def.array) {
          const list = this.#list(parent!, def.prop);
          list.values.push(f.value ?? null);
          list.metas.push(meta);
        } else {
          if (f.value !== undefined) parent!.obj[def.prop] = f.value;
          if (meta) parent!.obj[`_${def.prop}`] = meta;
        }
        return;
      }
      case 'wrapper':
        if (f.value === undefined) throw this.#fail(`<${f.def!.prop}> must hold a resource`, 'structure', f);
        this.#put(parent!, f.def!, f.value);
        return;
      case 'complex':
      case 'resource':
        this.#finishLists(f);
        if (f.kind === 'complex' && Object.keys(f.obj).length === 0) throw this.#fail(`<${f.def!.prop}> is empty: FHIR elements hold a value or children`, 'structure', f);
        if (f.kind === 'complex') this.#put(parent!, f.def!, f.obj);
        else if (parent) parent.value = f.obj;
        else this.#root = f.obj;
        return;
    }
  }

  #put(parent: Frame, def: ChildDef, value: unknown): void {
    if (!def.array) {
      parent.obj[def.prop] = value;
      return;
    }
    const list = (parent.obj[def.prop] ??= []) as unknown[];
    list.push(value);
  }

  /** Repeating primitives in their JSON form: values with nulls where only an id or extensions
   * were given, and the `_element` array beside them when any has one. */
  #finishLists(f: Frame): void {
    if (!f.lists) return;
    for (const [prop, list] of f.lists) {
      if (list.values.every((v) => v === null)) delete f.obj[prop];
      if (list.metas.some((m) => m !== null)) f.obj[`_${prop}`] = list.metas;
    }
  }
}

const XSI_NS = 'http://www.w3.org/2001/XMLSchema-instance';

/** Attributes that carry no FHIR content: namespace declarations, xml:*, and the XML Schema
 * location hints (xsi:schemaLocation, xsi:noNamespaceSchemaLocation) that published FHIR XML
 * files often carry on their root, e.g. HL7 Italia's profiles; the reference validator ignores
 * them. Other xsi attributes (type, nil) would change meaning and stay refused. */
function isDeclaration(a: sax.QualifiedAttribute): boolean {
  return a.name === 'xmlns' || a.prefix === 'xmlns' || a.prefix === 'xml'
    || (a.uri === XSI_NS && (a.local === 'schemaLocation' || a.local === 'noNamespaceSchemaLocation'));
}

/** The resource an XML text holds, in FHIR's JSON form; 400 OperationOutcome when it is not FHIR XML. */
export function fromXml(text: string, options: XmlReadOptions = {}): Json {
  return new Reader(xmlModel(), text, options).read();
}
