// FHIRPath Patch: https://hl7.org/fhir/R4/fhirpatch.html
// A Parameters resource whose `operation` parameters each name a type (add, insert, delete,
// replace, move), a FHIRPath `path` and, as the type needs, a `name`, a `value`, an `index`,
// a `source` and a `destination`. Paths are evaluated with fhirpath.js, whose result nodes know
// their parent object, property and array index: the operation changes the resource there.
// A malformed document is a 400; one that does not apply to this resource (a path matching
// nothing to replace, several elements to delete, an index out of range) is a 422.
import fhirpath from 'fhirpath';
import r4model from 'fhirpath/fhir-context/r4/index.js';
import type { Parameters, ParametersParameter, Resource } from 'fhir/r4.js';
import type { PathInfo } from '../fhir/definitions.ts';
import { badRequest, unprocessable } from '../fhir/errors.ts';

type OperationType = 'add' | 'insert' | 'delete' | 'replace' | 'move';

// A path is evaluated on the stored resource inside the write transaction, so it must stay
// cheap: functions that multiply collections (nested select() over %resource, descendants()
// within descendants()) could make one request evaluate billions of nodes. Patch paths only
// need to navigate, so those are refused.
const MAX_PATH = 1000;
const COSTLY = /%|\b(descendants|repeat|select|combine|aggregate|resolve|trace|children)\s*\(/;
const TYPES = new Set<OperationType>(['add', 'insert', 'delete', 'replace', 'move']);

export interface PatchOperation {
  type: OperationType;
  path: string;
  name?: string;
  value?: unknown;
  index?: number;
  source?: number;
  destination?: number;
}

/** What fhirpath.js returns for an element of the input (its ResourceNode). */
interface ElementNode {
  data: unknown;
  path: string | null;
  fhirNodeDataType: string | null;
  propName: string | null;
  index: number | null;
  parentResNode: ElementNode | null;
}

/** Whether a body is a FHIRPath Patch document rather than a JSON Patch one. */
export function isFhirPathPatch(body: unknown): body is Parameters {
  return body !== null && typeof body === 'object' && (body as { resourceType?: unknown }).resourceType === 'Parameters';
}

/** The value a part carries: its value[x], or an element built from its own parts. */
function partValue(p: ParametersParameter, where: string): unknown {
  const key = Object.keys(p).find((k) => k.startsWith('value') && k.length > 5);
  if (key) return (p as unknown as Record<string, unknown>)[key];
  if (p.resource) return p.resource;
  if (p.part?.length) {
    const out: Record<string, unknown> = {};
    for (const child of p.part) {
      if (!child.name || !/^[a-z][A-Za-z0-9]*$/.test(child.name)) throw badRequest(`${where}: a value part needs an element name`, 'structure');
      const v = partValue(child, `${where}.${child.name}`);
      const had = out[child.name];
      out[child.name] = had === undefined ? v : Array.isArray(had) ? [...had, v] : [had, v];
    }
    return out;
  }
  throw badRequest(`${where}: no value`, 'required');
}

function integerPart(parts: Map<string, ParametersParameter>, name: string, where: string): number | undefined {
  const p = parts.get(name);
  if (!p) return undefined;
  const v = p.valueInteger;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw badRequest(`${where}.${name} must be a valueInteger ≥ 0`, 'value');
  return v;
}

/** The operations of a FHIRPath Patch document, checked for what each type requires. */
export function patchOperations(doc: Parameters): PatchOperation[] {
  const params = doc.parameter ?? [];
  if (params.length === 0) throw badRequest('A FHIRPath Patch document has at least one operation parameter', 'structure');
  return params.map((param, i) => {
    const where = `operation ${i + 1}`;
    if (param.name !== 'operation' || !param.part?.length) throw badRequest(`${where}: every parameter is an 'operation' with parts`, 'structure');
    const parts = new Map<string, ParametersParameter>();
    for (const part of param.part) {
      if (parts.has(part.name)) throw badRequest(`${where}: part '${String(part.name).slice(0, 40)}' repeats`, 'structure');
      parts.set(part.name, part);
    }
    const type = parts.get('type')?.valueCode as OperationType | undefined;
    if (!type || !TYPES.has(type)) throw badRequest(`${where}: type must be add, insert, delete, replace or move`, 'value');
    const path = parts.get('path')?.valueString;
    if (!path) throw badRequest(`${where}: a path (valueString) is required`, 'required');
    if (path.length > MAX_PATH || COSTLY.test(path)) {
      throw badRequest(`${where}: a patch path navigates the resource (elements, indexes, where(), first(), ofType()…); it may not use environment variables, descendants(), repeat(), select(), combine(), aggregate() or resolve(), nor be longer than ${MAX_PATH} characters`, 'not-supported');
    }
    const op: PatchOperation = { type, path };
    if (type === 'add') {
      const name = parts.get('name')?.valueString;
      if (!name || !/^[a-z][A-Za-z0-9]*$/.test(name)) throw badRequest(`${where}: add needs the name of the element to add`, 'required');
      op.name = name;
    }
    if (type === 'add' || type === 'insert' || type === 'replace') {
      const value = parts.get('value');
      if (!value) throw badRequest(`${where}: ${type} needs a value`, 'required');
      op.value = partValue(value, `${where}.value`);
    }
    if (type === 'insert') {
      op.index = integerPart(parts, 'index', where);
      if (op.index === undefined) throw badRequest(`${where}: insert needs an index`, 'required');
    }
    if (type === 'move') {
      op.source = integerPart(parts, 'source', where);
      op.destination = integerPart(parts, 'destination', where);
      if (op.source === undefined || op.destination === undefined) throw badRequest(`${where}: move needs a source and a destination`, 'required');
    }
    return op;
  });
}

function evaluate(resource: Resource, path: string, where: string): ElementNode[] {
  let result: unknown[];
  try {
    result = fhirpath.evaluate(resource, path, undefined, r4model as never, { resolveInternalTypes: false } as never) as unknown[];
  } catch (err) {
    throw badRequest(`${where}: the path is not valid FHIRPath (${String((err as Error).message).split('\n')[0].slice(0, 120)})`, 'invalid');
  }
  return result.map((n) => {
    if (n === null || typeof n !== 'object' || !('parentResNode' in n)) throw unprocessable({ code: 'processing', diagnostics: `${where}: the path selects a computed value, not an element` });
    return n as ElementNode;
  });
}

/** The JSON property holding a node in its parent: value[x] elements are named by their type. */
function property(parent: Record<string, unknown>, node: ElementNode): string {
  const name = node.propName!;
  if (name in parent) return name;
  const type = node.fhirNodeDataType ?? '';
  const typed = name + type.charAt(0).toUpperCase() + type.slice(1);
  if (typed in parent) return typed;
  return Object.keys(parent).find((k) => k.startsWith(name) && /^[A-Z]/.test(k.slice(name.length)) && parent[k] === node.data) ?? name;
}

interface Location {
  parent: Record<string, unknown>;
  key: string;
  /** position in the array the element is in, or null for a single element */
  index: number | null;
}

function locate(node: ElementNode, where: string): Location {
  const parent = node.parentResNode?.data;
  if (!parent || typeof parent !== 'object' || node.propName === null) {
    throw unprocessable({ code: 'processing', diagnostics: `${where}: the path selects the resource itself, not one of its elements` });
  }
  const p = parent as Record<string, unknown>;
  const key = property(p, node);
  return { parent: p, key, index: Array.isArray(p[key]) ? node.index : null };
}

/** The list a collection of nodes lives in (insert and move). */
function list(nodes: ElementNode[], where: string): Location & { items: unknown[] } {
  if (nodes.length === 0) throw unprocessable({ code: 'processing', diagnostics: `${where}: the path matches no list` });
  const at = locate(nodes[0], where);
  const items = at.parent[at.key];
  if (!Array.isArray(items) || nodes.some((n) => n.parentResNode?.data !== at.parent || n.propName !== nodes[0].propName)) {
    throw unprocessable({ code: 'processing', diagnostics: `${where}: the path must select the elements of one list` });
  }
  return { ...at, items };
}

/** Keeps a primitive list's `_name` (ids and extensions) aligned with the list. */
function splice(at: Location, start: number, remove: number, ...add: unknown[]): unknown[] {
  const items = at.parent[at.key] as unknown[];
  const removed = items.splice(start, remove, ...add);
  const shadow = at.parent[`_${at.key}`];
  if (Array.isArray(shadow)) shadow.splice(start, remove, ...add.map(() => null));
  if (items.length === 0) {
    delete at.parent[at.key];
    delete at.parent[`_${at.key}`];
  }
  return removed;
}

function remove(at: Location): void {
  if (at.index === null) {
    delete at.parent[at.key];
    delete at.parent[`_${at.key}`];
  } else splice(at, at.index, 1);
}

/** The definition path of a node's children: a backbone element by its path, a datatype or a
 * resource by its type. */
function typePath(node: ElementNode): string {
  const type = node.fhirNodeDataType ?? node.path ?? '';
  return type === 'BackboneElement' || type === 'Element' ? node.path ?? type : type;
}

function apply(resource: Resource, op: PatchOperation, where: string, paths: Record<string, PathInfo>): void {
  const nodes = evaluate(resource, op.path, where);
  switch (op.type) {
    case 'add': {
      if (nodes.length !== 1 || nodes[0].data === null || typeof nodes[0].data !== 'object') {
        throw unprocessable({ code: 'processing', diagnostics: `${where}: add needs a path to exactly one element to add to (matched ${nodes.length})` });
      }
      const container = nodes[0].data as Record<string, unknown>;
      const name = op.name!;
      const info = paths[`${typePath(nodes[0])}.${name}`];
      const repeats = Array.isArray(container[name]) || (info !== undefined && info.max !== '1' && info.max !== '0');
      if (repeats) container[name] = [...((container[name] as unknown[] | undefined) ?? []), op.value];
      else if (container[name] !== undefined) throw unprocessable({ code: 'processing', diagnostics: `${where}: ${name} is already present and does not repeat (use replace)` });
      else container[name] = op.value;
      return;
    }
    case 'insert': {
      if (nodes.length === 0) {
        // an empty list: its container is the path without the last step
        const m = /^(.*)\.([a-z][A-Za-z0-9]*)$/.exec(op.path.trim());
        const owner = m ? evaluate(resource, m[1], where) : [];
        if (owner.length !== 1 || typeof owner[0].data !== 'object' || op.index !== 0) {
          throw unprocessable({ code: 'processing', diagnostics: `${where}: the path matches no list to insert into at index ${op.index}` });
        }
        (owner[0].data as Record<string, unknown>)[m![2]] = [op.value];
        return;
      }
      const at = list(nodes, where);
      if (op.index! > at.items.length) throw unprocessable({ code: 'processing', diagnostics: `${where}: index ${op.index} is beyond the list's ${at.items.length} elements` });
      splice(at, op.index!, 0, op.value);
      return;
    }
    case 'delete': {
      if (nodes.length === 0) return; // nothing to delete: the patch still applies (as HAPI and Firely do)
      if (nodes.length > 1) throw unprocessable({ code: 'multiple-matches', diagnostics: `${where}: delete matches ${nodes.length} elements; it deletes one` });
      remove(locate(nodes[0], where));
      return;
    }
    case 'replace': {
      if (nodes.length !== 1) throw unprocessable({ code: 'processing', diagnostics: `${where}: replace needs a path to exactly one element (matched ${nodes.length})` });
      const at = locate(nodes[0], where);
      if (at.index === null) at.parent[at.key] = op.value;
      else (at.parent[at.key] as unknown[])[at.index] = op.value;
      return;
    }
    case 'move': {
      const at = list(nodes, where);
      const n = at.items.length;
      if (op.source! >= n || op.destination! >= n) throw unprocessable({ code: 'processing', diagnostics: `${where}: source and destination must be below the list's ${n} elements` });
      const shadow = at.parent[`_${at.key}`];
      const [item] = at.items.splice(op.source!, 1);
      at.items.splice(op.destination!, 0, item);
      if (Array.isArray(shadow)) shadow.splice(op.destination!, 0, shadow.splice(op.source!, 1)[0]);
      return;
    }
  }
}

/** `resource` with the operations (of patchOperations) applied in order (a copy; the input is
 * unchanged). */
export function applyFhirPathPatch(resource: Resource, operations: PatchOperation[], paths: Record<string, PathInfo>): Resource {
  const next = structuredClone(resource);
  operations.forEach((op, i) => apply(next, op, `operation ${i + 1} (${op.type} ${op.path.slice(0, 80)})`, paths));
  return next;
}
