// What a handler answers with: a resource object, or JSON text it already holds (a stored
// version, a Bundle written around stored texts by bundle.ts), which is sent as it is — the
// read path never parses and re-serializes a stored resource. Serialized once, at the edge
// (HTTP, Bundle response entries), by serialize().
import type { Resource } from 'fhir/r4.js';

/** A resource as JSON text, with its type known without parsing and a parsed view made on
 * first use. */
export class ResourceJson {
  readonly resourceType: string;
  readonly text: string;
  #parsed: Resource | undefined;

  constructor(resourceType: string, text: string) {
    this.resourceType = resourceType;
    this.text = text;
  }

  /** The parsed resource, made once; callers must not change it (copy first). */
  get resource(): Resource {
    return (this.#parsed ??= JSON.parse(this.text) as Resource);
  }
}

export type ResponseBody = Resource | ResourceJson;

/** The body's JSON text: stored text as it is, objects stringified. */
export function serialize(body: ResponseBody): string {
  return body instanceof ResourceJson ? body.text : JSON.stringify(body);
}

/** The body as a resource object (parsed once for JSON text). */
export function resourceOf<T extends Resource = Resource>(body: ResponseBody): T {
  return (body instanceof ResourceJson ? body.resource : body) as T;
}
