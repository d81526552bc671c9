// An operation declared as data: what src/rest/route-table.ts needs to route it (over HTTP and
// in Bundle entries), to check its parameters, to list it in the CapabilityStatement and to
// serve its OperationDefinition (src/operations/definition.ts). One per operation file,
// collected by src/operations/index.ts.
import type { Permission } from '../auth/scopes.ts';
import type { Handler, FhirRequest } from '../rest/types.ts';

export type OperationLevel = 'system' | 'type' | 'instance';

/** OperationDefinition.parameter, as the handler reads it (in) or answers it (out). */
export interface OperationParameter {
  name: string;
  use: 'in' | 'out';
  min: number;
  /** '1', '*' … */
  max: string;
  /** a FHIR data type or resource type; absent for a parameter made of parts */
  type?: string;
  documentation?: string;
  part?: OperationParameter[];
}

export interface OperationSpec {
  /** the operation's code, without '$' */
  code: string;
  /** OperationDefinition.id, unique on this server (validate-code exists for ValueSet and CodeSystem) */
  id: string;
  title: string;
  description: string;
  /** the HL7 canonical this server's definition narrows (standard operations only) */
  base?: string;
  levels: OperationLevel[];
  /** the types of its type- and instance-level routes; '*' = every resource type */
  resourceTypes: string[] | '*';
  /** callable with GET: only operations that change nothing (FHIR: affectsState false) */
  get: boolean;
  post: boolean;
  /** whether it may change stored data (OperationDefinition.affectsState) */
  affectsState: boolean;
  /** whether this call writes, so that it runs in one transaction with its AuditEvent:
   * always, or only on request ($score persist=true) */
  writes: boolean | ((req: FhirRequest) => boolean);
  /** the interaction the audit trail records (the write the operation amounts to); 'operation' by default */
  auditAs?: string;
  /** why it cannot run inside a transaction Bundle (own transactions, background jobs, whole-Bundle imports) */
  notInTransaction?: string;
  /** takes Bundle-sized bodies (config.maxBundleBytes) */
  bundleBody?: boolean;
  /** also routed at [type]/[id]/_history/[vid]/$code */
  versioned?: boolean;
  /** the body may be the one resource input itself instead of a Parameters resource */
  resourceBody?: boolean;
  /** records its own AuditEvents (FhirRequest.auditEvent): it runs its own transactions */
  auditsItself?: boolean;
  /** answers in a media type of its own (HL7 v2 ER7) as well as FHIR JSON: the JSON-only
   * content negotiation does not apply */
  ownFormats?: boolean;
  /** the request body is not FHIR JSON (HL7 v2 ER7): no Parameters to check */
  rawBody?: boolean;
  /** the SMART permissions every call needs on its route's resource type (system level: on
   * every type, system/*), checked before the handler runs; the handler checks what depends
   * on the request (the stored resource, persisting, the types it reaches) */
  access?: Permission[];
  parameters: OperationParameter[];
  handler: Handler;
}

type Defaulted = 'get' | 'post' | 'affectsState' | 'writes' | 'resourceTypes';

/** A declaration without what most operations share: POST only, no resource type (system
 * level), changes nothing. */
export function defineOperation(input: Omit<OperationSpec, Defaulted> & Partial<Pick<OperationSpec, Defaulted>>): OperationSpec {
  return { get: false, post: true, affectsState: false, writes: false, resourceTypes: [], ...input };
}

/** Query parameters every interaction takes (https://hl7.org/fhir/R4/http.html#parameters). */
export const GENERAL_PARAMETERS = new Set(['_format', '_pretty']);

const CARDINALITY: Record<string, [number, string]> = { '': [0, '1'], '!': [1, '1'], '*': [0, '*'], '+': [1, '*'] };

/**
 * Parameters of one direction written as words `name:type`, marked `!` when required (1..1),
 * `*` when repeating (0..*), `+` when both (1..*): `parametersOf('in', 'url:uri count:integer
 * code:code!')`. Documentation by name; parameters made of parts are written as objects.
 */
export function parametersOf(use: 'in' | 'out', words: string, documentation: Record<string, string> = {}): OperationParameter[] {
  return words.split(/\s+/).filter(Boolean).map((word) => {
    const m = /^([A-Za-z][\w-]*):([A-Za-z][A-Za-z0-9]*)([!*+]?)$/.exec(word);
    if (!m) throw new Error(`operation parameter '${word}': expected name:type with an optional !, * or +`);
    const [min, max] = CARDINALITY[m[3]];
    const doc = documentation[m[1]];
    return { name: m[1], use, min, max, type: m[2], ...(doc !== undefined ? { documentation: doc } : {}) };
  });
}
