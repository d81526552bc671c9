// What a handler answers with: a resource object, or JSON text it already holds (a stored
// version, a Bundle written around stored texts by bundle.ts), which is sent as it is — the
// read path never parses and re-serializes a stored resource. Serialized once, at the edge
// (HTTP, Bundle response entries), by serialize().
import type { Binary, Resource } from 'fhir/r4.js';
import { toXml } from './xml/serialize.ts';

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

/** An answer in a media type of its own (an HL7 v2 ER7 message or ACK), sent as it is over
 * HTTP; inside a Bundle (and wherever a resource is asked of it) it is a Binary. */
export class MediaText {
  readonly resourceType = 'Binary';
  readonly contentType: string;
  readonly text: string;

  constructor(contentType: string, text: string) {
    this.contentType = contentType;
    this.text = text;
  }

  get resource(): Binary {
    return { resourceType: 'Binary', contentType: this.contentType.split(';')[0].trim(), data: Buffer.from(this.text, 'utf8').toString('base64') };
  }
}

export type ResponseBody = Resource | ResourceJson | MediaText;

/** The body's text: stored text and media text as they are, objects stringified; in XML, the
 * resource written by src/fhir/xml (media text stays as it is). */
export function serialize(body: ResponseBody, format: 'json' | 'xml' = 'json', pretty = false): string {
  if (body instanceof MediaText) return body.text;
  if (format === 'xml') return toXml(resourceOf(body), { pretty });
  if (pretty) return JSON.stringify(resourceOf(body), null, 2);
  return body instanceof ResourceJson ? body.text : JSON.stringify(body);
}

/** The body as a resource object (parsed once for JSON text; media text as a Binary). */
export function resourceOf<T extends Resource = Resource>(body: ResponseBody): T {
  return (body instanceof ResourceJson || body instanceof MediaText ? body.resource : body) as T;
}
