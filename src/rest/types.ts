// Framework-free request and response shapes: src/http adapts Fastify to these, and batch or
// transaction processing can call the same handlers for each Bundle entry.
import type { ResponseBody } from '../fhir/body.ts';
import type { IgPackage } from '../ig/package.ts';
import type { ResourceTypes } from '../fhir/definitions.ts';
import type { Repository } from '../store/repository.ts';
import type { Config } from '../config.ts';
import type { SearchParamRegistry } from '../search/registry.ts';
import type { SearchParser } from '../search/parser.ts';
import type { ReindexJobs } from '../operations/reindex.ts';
import type { AuthContext } from '../auth/authorize.ts';
import type { Auditor } from '../audit/audit.ts';
import type { Terminology } from '../terminology/service.ts';
import type { ValidationService } from '../validation/service.ts';

export interface FhirRequest {
  method: string;
  /** the base URL the client used, without trailing slash (e.g. http://127.0.0.1:8080/fhir) */
  baseUrl: string;
  resourceType?: string;
  id?: string;
  versionId?: string;
  /** who is asking, with which scopes; undefined in development open access */
  auth?: AuthContext;
  /** the id a create must use (a transaction assigned it so other entries can refer to it) */
  assignedId?: string;
  /** GET [Compartment]/[id]/[type]: the searched type */
  compartmentType?: string;
  /** decoded query parameters; repeated parameters keep every value in order */
  query: Record<string, string[]>;
  /** lower-case header names */
  headers: Record<string, string | undefined>;
  body?: unknown;
  /** the request body's media type (without parameters), when there is a body */
  contentType?: string;
  /** what handlers tell the audit trail about this request (shared by copies of the request) */
  trail?: TrailNotes;
}

export interface TrailNotes {
  /** the request's query reads a sensitive parameter: its AuditEvent is labelled like the data,
   * and its query is withheld from clients without the migration-data scope */
  sensitiveQuery?: boolean;
}

export interface FhirResponse {
  status: number;
  headers?: Record<string, string>;
  /** a resource object, or JSON text the handler already holds (src/fhir/body.ts) */
  body?: ResponseBody;
}

export interface Context {
  config: Config;
  types: ResourceTypes;
  repo: Repository;
  search: SearchParamRegistry;
  /** the one search parser every caller that reads a search query uses (src/search/parser.ts) */
  searchParser: SearchParser;
  jobs: ReindexJobs;
  terminology: Terminology;
  /** the migrant-health IG package loaded at start-up (profiles with snapshots, terminology) */
  ig?: IgPackage;
  validation: ValidationService;
  /** the audit trail, when auditing is on */
  audit?: Auditor;
}

export type Handler = (req: FhirRequest, ctx: Context) => Promise<FhirResponse>;

export function firstParam(req: FhirRequest, name: string): string | undefined {
  return req.query[name]?.[0];
}
