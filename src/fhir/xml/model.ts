// What the XML form of R4 needs to know about each element, derived from the R4 definitions the
// server already loads (src/fhir/definitions.ts `paths`, in snapshot order): the children of
// every resource, datatype and backbone element in their order, their JSON property names
// (choice types expanded: value[x] → valueQuantity…), and how each is written in XML — a
// primitive with a `value` attribute, a complex element, a resource wrapper (contained,
// Bundle.entry.resource, Parameters.parameter.resource), the XHTML div, or an attribute
// (Element.id, Extension.url). No per-type code: a table per context, built on first use.
import { loadDefinitions, type R4Definitions } from '../definitions.ts';

export const FHIR_NS = 'http://hl7.org/fhir';
export const XHTML_NS = 'http://www.w3.org/1999/xhtml';

export type ChildKind = 'primitive' | 'complex' | 'resource' | 'xhtml' | 'attribute';

export interface ChildDef {
  /** the JSON property (and XML element) name: `birthDate`, `valueQuantity` */
  prop: string;
  /** the element's name in its definition, without [x]: where choice properties share a slot */
  element: string;
  kind: ChildKind;
  /** the type's code: `date`, `HumanName`, `Resource` */
  type: string;
  /** for complex children: the context their own children are looked up in (a datatype name or
   * a backbone element's path) */
  context: string;
  array: boolean;
  /** position in the definition's element order */
  order: number;
}

export interface Context {
  /** JSON property / XML element name → child */
  readonly children: ReadonlyMap<string, ChildDef>;
  /** attributes (Element.id, Extension.url) by name */
  readonly attributes: ReadonlyMap<string, ChildDef>;
}

// JSON numbers and booleans in FHIR's JSON form (json.html#primitive); every other primitive is a string
const NUMBERS = new Set(['integer', 'decimal', 'positiveInt', 'unsignedInt']);

export function isNumberType(type: string): boolean {
  return NUMBERS.has(type);
}

function upperFirst(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export class XmlModel {
  readonly resourceTypes: ReadonlySet<string>;
  readonly #paths: R4Definitions['paths'];
  /** parent path → its child paths in snapshot order */
  readonly #childPaths = new Map<string, string[]>();
  readonly #contexts = new Map<string, Context>();

  constructor(defs: R4Definitions) {
    this.resourceTypes = new Set(defs.resourceTypes);
    this.#paths = defs.paths;
    for (const path of Object.keys(defs.paths)) {
      const parent = path.slice(0, path.lastIndexOf('.'));
      let list = this.#childPaths.get(parent);
      if (!list) this.#childPaths.set(parent, (list = []));
      list.push(path);
    }
  }

  /** The children of a resource type, datatype or backbone path; undefined for a name R4 does not define. */
  context(key: string): Context | undefined {
    const known = this.#contexts.get(key);
    if (known) return known;
    const paths = this.#childPaths.get(key);
    if (!paths) return undefined;
    const isResource = this.resourceTypes.has(key);
    const children = new Map<string, ChildDef>();
    const attributes = new Map<string, ChildDef>();
    paths.forEach((path, order) => {
      const info = this.#paths[path];
      const element = path.slice(key.length + 1);
      const array = info.max !== '1' && info.max !== '0';
      // Element.id and Extension.url are XML attributes; a resource's id is an element
      if ((element === 'id' && !isResource) || (element === 'url' && key === 'Extension')) {
        attributes.set(element, { prop: element, element, kind: 'attribute', type: 'string', context: '', array: false, order });
        return;
      }
      for (const type of info.types) {
        const prop = info.choice ? element + upperFirst(type) : element;
        children.set(prop, { prop, element, kind: this.#kind(type), type, context: this.#childContext(path, type), array, order });
      }
    });
    const made = { children, attributes };
    this.#contexts.set(key, made);
    return made;
  }

  #kind(type: string): ChildKind {
    if (type === 'xhtml') return 'xhtml';
    if (type === 'Resource') return 'resource';
    const c = type.charCodeAt(0);
    return c >= 97 && c <= 122 ? 'primitive' : 'complex';
  }

  #childContext(path: string, type: string): string {
    // a backbone element (or Element in a datatype, e.g. Timing.repeat) has children of its own path
    if (this.#childPaths.has(path)) return path;
    // contentReference: Questionnaire.item.item → Questionnaire.item
    if (type.startsWith('#')) return type.slice(1);
    return type;
  }
}

let model: XmlModel | undefined;

/** The model over the server's R4 definitions, made once. */
export function xmlModel(): XmlModel {
  return (model ??= new XmlModel(loadDefinitions()));
}
