// Framework-free request and response shapes: src/http adapts Fastify to these, and batch or
// transaction processing can call the same handlers for each Bundle entry.
import type { ResponseBody } from '../fhir/body.ts';
import type { Task } from 'fhir/r4.js';
import type { IgPackage } from '../ig/package.ts';
import type { ResourceTypes } from '../fhir/definitions.ts';
import type { Repository } from '../store/repository.ts';
import type { Config } from '../config.ts';
import type { SearchParamRegistry } from '../search/registry.ts';
import type { SearchParser } from '../search/parser.ts';
import type { AuthContext } from '../auth/authorize.ts';
import type { Auditor } from '../audit/audit.ts';
import type { Terminology } from '../terminology/service.ts';
import type { ValidationService } from '../validation/service.ts';
import type { BulkJobs } from '../bulk/jobs.ts';
import type { InboundLog } from '../inbound/log.ts';
import type { PreparePool } from '../store/prepare/pool.ts';
import type { PreparedWrite } from '../store/prepare/prepared.ts';

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
  /** a create's or update's resource as the write pipeline's store-free steps already prepared
   * it, under the request's id (a transaction entry prepared ahead: src/rest/bundle-prepared.ts) */
  prepared?: PreparedWrite;
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
  /** set by the HTTP adapter when auditing, for operations that run their own transactions
   * ($hl7v2-ingest): records the request's AuditEvent, inside the transaction open in this
   * async context (inTransaction) or after it; without `patient`, one event per patient the
   * answer names, as for any write */
  auditEvent?: (res: FhirResponse, note: { patient?: string; description?: string; inTransaction: boolean }) => Promise<void>;
}

export interface TrailNotes {
  /** the request's query reads a sensitive parameter: its AuditEvent is labelled like the data,
   * and its query is withheld from clients without the migration-data scope */
  sensitiveQuery?: boolean;
  /** the request's query names what an operation read (a message of the inbound log,
   * $inbound-messages?id=…): its AuditEvent records the query, as a search's does */
  query?: boolean;
  /** the patients the stored resources of an answer name, when the handler knows them (a read;
   * a search cut by _summary/_elements): the trail records them, which the answer may no longer
   * show (an Observation without its subject), instead of scanning the answer */
  patients?: readonly string[];
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
  jobs: BackgroundJobs;
  terminology: Terminology;
  /** the migrant-health IG package loaded at start-up (profiles with snapshots, terminology) */
  ig?: IgPackage;
  validation: ValidationService;
  /** the audit trail, when auditing is on */
  audit?: Auditor;
  /** Bulk Data $export and $import jobs (src/bulk/jobs.ts), set once the app is built */
  bulk?: BulkJobs;
  /** the inbound message log (src/inbound/log.ts), set once the app is built */
  inbound?: InboundLog;
  /** threads that prepare writes ahead of the writer (src/store/prepare/pool.ts); size 0: none */
  prepare?: PreparePool;
}

/** The server's background reindex jobs (ReindexJobs in src/operations/reindex.ts), each a Task. */
export interface BackgroundJobs {
  start(types: string[] | undefined): Promise<Task>;
  resume(): Promise<number>;
  stop(): Promise<void>;
  /** resolves when every running job has finished (tests) */
  idle(): Promise<void>;
}

export type Handler = (req: FhirRequest, ctx: Context) => Promise<FhirResponse>;

export function firstParam(req: FhirRequest, name: string): string | undefined {
  return req.query[name]?.[0];
}
