// Every option has a command-line flag and an environment variable; this table is the single
// source for parsing, `migfhir help` and the README's option table.
import { resolve } from 'node:path';
import { parsePurpose } from './auth/purpose.ts';
import { parseGrades, type GradeThresholds } from './mpi/match-settings.ts';

export interface Config {
  port: number;
  host: string;
  /** public base URL; when unset it is derived from each request's Host header */
  baseUrl?: string;
  /** URL path the FHIR API is served under, from baseUrl's path or '/fhir' */
  basePath: string;
  dataDir: string;
  logLevel: string;
  store: 'sqlite' | 'mongodb';
  /** MongoDB connection string (--store mongodb) */
  mongodbUri: string;
  sqliteSynchronous: 'normal' | 'full';
  maxBodyBytes: number;
  maxJsonDepth: number;
  defaultCount: number;
  maxCount: number;
  conditionalDeleteMax: number;
  /** most values in one search, over all its parameters */
  maxSearchValues: number;
  /** most parameters in one search (repetitions, _include, _revinclude, _sort keys count) */
  maxSearchParameters: number;
  /** ms a client may take to send a whole request (headers and body); then 408 */
  requestTimeout: number;
  /** who may read /metrics: loopback addresses only, holders of metricsToken, or nobody */
  metricsAccess: 'loopback' | 'token' | 'off';
  metricsToken: string;
  maxBundleBytes: number;
  maxBundleEntries: number;
  /** development only: no authorization at all */
  devOpenAccess: boolean;
  /** registered backend-service clients; '' means <dataDir>/clients.json */
  clientsFile: string;
  /** purposes of use (system|code) refused with 403 */
  refusedPurposes: string[];
  /** the Ed25519 key (PEM) signing the audit trail's checkpoints; '' means <dataDir>/audit-signing-key.pem */
  auditKey: string;
  /** AuditEvents: on with authorization, off in development open access, unless set */
  audit: 'auto' | 'on' | 'off';
  /** requests per minute per client (or address); 0 = no limit; -1 = auto */
  rateLimit: number;
  /** requests per minute per address refused for want of a valid access token; 0 = no limit; -1 = auto */
  anonymousRateLimit: number;
  /** token requests per minute per address and client; 0 = no limit; -1 = auto */
  tokenRateLimit: number;
  /** origins allowed by CORS; empty = CORS off */
  corsOrigins: string[];
  /** HL7 v2 MLLP listener port; undefined = off, 0 = a free port */
  mllpPort?: number;
  mllpHost: string;
  /** largest MLLP frame; larger ones are discarded and answered with AR */
  mllpMaxBytes: number;
  /** days an entry of the inbound message log is kept; 0 = no log */
  messageLogDays: number;
  /** most entries the inbound message log keeps; 0 = no log */
  messageLogMax: number;
  /** validation on write: the default mode and per-type overrides */
  validation: ValidationModes;
  /** profiles every write of a type must meet, besides the declared meta.profile */
  mandatoryProfiles: Record<string, string[]>;
  /** on write, an extension neither R4, the HL7 extensions pack nor a held profile defines:
   * refused (error), stored with a warning, or stored silently ($validate and the CLI always
   * report it as an error, as the HL7 reference validator does) */
  unknownExtensions: 'error' | 'warning' | 'accept';
  /** store the IG's conformance resources at start-up, so they can be read and searched */
  installIg: boolean;
  /** remote FHIR endpoints for `migfhir sync`; '' means <dataDir>/endpoints.json */
  endpointsFile: string;
  /** Patient/$match: the weights at which a candidate is graded certain, probable, possible */
  matchGrades: GradeThresholds;
  /** Bulk Data $export: most NDJSON lines in one output file (larger types are split) */
  exportFileLines: number;
  /** Bulk Data $export: minutes a completed export's files are kept, then deleted */
  exportExpiryMinutes: number;
  /** Bulk Data $import: URL prefixes the server may fetch NDJSON inputs from; empty = none */
  importTrustedUrls: string[];
  /** worker threads that prepare writes ahead of the single writer (src/store/prepare): parse,
   * validate, label, extract index rows; 0 = the writer does it all; -1 = cores − 1 (at least 1) */
  prepareThreads: number;
}

export type ValidationMode = 'off' | 'base' | 'profiles';

export interface ValidationModes {
  default: ValidationMode;
  types: Record<string, ValidationMode>;
}

/** `profiles,Binary=off,Observation=base` */
function validationModes(v: string): ValidationModes {
  const out: ValidationModes = { default: 'profiles', types: {} };
  const mode = (m: string): ValidationMode => {
    if (m !== 'off' && m !== 'base' && m !== 'profiles') throw new Error(`validation modes are off, base or profiles, not '${m}'`);
    return m;
  };
  for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i < 0) out.default = mode(part);
    else out.types[part.slice(0, i).trim()] = mode(part.slice(i + 1).trim());
  }
  return out;
}

/** `Patient=url1|url2,Encounter=url3` */
function typeProfiles(v: string): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const part of v.split(',').map((x) => x.trim()).filter(Boolean)) {
    const i = part.indexOf('=');
    if (i < 1) throw new Error(`expected Type=profile-url, got '${part}'`);
    out[part.slice(0, i).trim()] = part.slice(i + 1).split('|').map((x) => x.trim()).filter(Boolean);
  }
  return out;
}

/** `system|code,…`, each checked as the firewall parses a stated purpose (src/auth/purpose.ts) */
function refusedPurposes(v: string): string[] {
  const list = v.split(',').map((x) => x.trim()).filter(Boolean);
  for (const p of list) {
    try {
      parsePurpose(p);
    } catch (err) {
      throw new Error(`'${p}': ${(err as Error).message}`);
    }
  }
  return list;
}

interface OptionSpec {
  key: keyof Config;
  flag: string;
  env: string;
  default: string;
  description: string;
  parse?: (v: string) => unknown;
  /** a switch: the flag alone means true */
  boolean?: boolean;
}

function bool(v: string): boolean {
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0' || v === '') return false;
  throw new Error(`expected true or false, got '${v}'`);
}

function integer(min: number, max: number) {
  return (v: string) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`expected a whole number from ${min} to ${max}, got '${v}'`);
    return n;
  };
}

function oneOf<T extends string>(...values: T[]) {
  return (v: string) => {
    if (!values.includes(v as T)) throw new Error(`expected one of ${values.join(', ')}, got '${v}'`);
    return v as T;
  };
}

export const OPTIONS: OptionSpec[] = [
  { key: 'port', flag: '--port', env: 'MIGFHIR_PORT', default: '8080', description: 'TCP port; 0 picks a free one (the chosen port is printed)', parse: integer(0, 65535) },
  { key: 'host', flag: '--host', env: 'MIGFHIR_HOST', default: '127.0.0.1', description: 'interface to listen on (0.0.0.0 for all)' },
  { key: 'baseUrl', flag: '--base-url', env: 'MIGFHIR_BASE_URL', default: '', description: 'public base URL used in Location headers and Bundle links (default: from the request, http://HOST:PORT/fhir); its path is the API path' },
  { key: 'dataDir', flag: '--data-dir', env: 'MIGFHIR_DATA_DIR', default: './data', description: 'folder of the embedded database (migfhir.sqlite)', parse: (v) => resolve(v) },
  { key: 'logLevel', flag: '--log-level', env: 'MIGFHIR_LOG_LEVEL', default: 'info', description: 'fatal, error, warn, info, debug, trace or silent; bodies are never logged', parse: oneOf('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent') },
  { key: 'store', flag: '--store', env: 'MIGFHIR_STORE', default: 'sqlite', description: 'storage engine: sqlite (embedded) or mongodb (see docs/deploy-mongodb.md)', parse: oneOf('sqlite', 'mongodb') },
  { key: 'mongodbUri', flag: '--mongodb-uri', env: 'MIGFHIR_MONGODB_URI', default: '', description: 'MongoDB connection string for --store mongodb, e.g. mongodb://h1,h2,h3/migfhir?replicaSet=rs0 (a replica set is needed for transaction Bundles)' },
  { key: 'sqliteSynchronous', flag: '--sqlite-synchronous', env: 'MIGFHIR_SQLITE_SYNCHRONOUS', default: 'normal', description: 'normal: acknowledged writes survive a crash of the server process; full: they also survive power loss (fsync per write)', parse: oneOf('normal', 'full') },
  { key: 'maxBodyBytes', flag: '--max-body-bytes', env: 'MIGFHIR_MAX_BODY_BYTES', default: '16777216', description: 'largest accepted request body; larger ones get 413', parse: integer(1024, 2 ** 31 - 1) },
  { key: 'maxJsonDepth', flag: '--max-json-depth', env: 'MIGFHIR_MAX_JSON_DEPTH', default: '100', description: 'deepest accepted JSON nesting; deeper bodies get 400', parse: integer(8, 10000) },
  { key: 'defaultCount', flag: '--default-count', env: 'MIGFHIR_DEFAULT_COUNT', default: '20', description: 'page size of history and search Bundles when _count is absent', parse: integer(1, 10000) },
  { key: 'maxCount', flag: '--max-count', env: 'MIGFHIR_MAX_COUNT', default: '1000', description: 'largest page size a client may ask for with _count', parse: integer(1, 100000) },
  { key: 'maxSearchValues', flag: '--max-search-values', env: 'MIGFHIR_MAX_SEARCH_VALUES', default: '500', description: 'most values in one search, counting the comma-separated values of all its parameters together; more get 400', parse: integer(1, 1000) },
  { key: 'maxSearchParameters', flag: '--max-search-parameters', env: 'MIGFHIR_MAX_SEARCH_PARAMETERS', default: '100', description: 'most parameters in one search (each repetition, _include, _revinclude and _sort key counts); more get 400', parse: integer(1, 200) },
  { key: 'metricsAccess', flag: '--metrics-access', env: 'MIGFHIR_METRICS_ACCESS', default: 'loopback', description: 'who may read GET /metrics (Prometheus): loopback (callers on 127.0.0.1/::1 only; behind a reverse proxy do not forward /metrics), token (Authorization: Bearer with --metrics-token, from anywhere) or off', parse: oneOf('loopback', 'token', 'off') },
  { key: 'metricsToken', flag: '--metrics-token', env: 'MIGFHIR_METRICS_TOKEN', default: '', description: 'the bearer token /metrics asks for with --metrics-access token (at least 32 characters; prefer the environment variable: flags show in process lists)' },
  { key: 'requestTimeout', flag: '--request-timeout', env: 'MIGFHIR_REQUEST_TIMEOUT', default: '30000', description: 'milliseconds a client may take to send a whole request, headers within the first third (at most 10 s); slower ones get 408 and are disconnected', parse: integer(1000, 3_600_000) },
  { key: 'maxBundleBytes', flag: '--max-bundle-bytes', env: 'MIGFHIR_MAX_BUNDLE_BYTES', default: '268435456', description: 'largest accepted batch or transaction Bundle body (POST to the base), and body of $validate (a Bundle validated whole) and the import operations; larger ones get 413', parse: integer(1024, 2 ** 31 - 1) },
  { key: 'maxBundleEntries', flag: '--max-bundle-entries', env: 'MIGFHIR_MAX_BUNDLE_ENTRIES', default: '20000', description: 'most entries in one batch or transaction Bundle; more get 413', parse: integer(1, 1000000) },
  { key: 'devOpenAccess', flag: '--dev-open-access', env: 'MIGFHIR_DEV_OPEN_ACCESS', default: 'false', description: 'DEVELOPMENT ONLY: serve without authorization (every start-up line and /metadata warn); never in production', parse: bool, boolean: true },
  { key: 'clientsFile', flag: '--clients-file', env: 'MIGFHIR_CLIENTS_FILE', default: '', description: 'registered SMART backend-service clients (JSON, written by `migfhir clients add`); default DATA_DIR/clients.json' },
  { key: 'refusedPurposes', flag: '--refused-purposes', env: 'MIGFHIR_REFUSED_PURPOSES', default: 'https://migfhir.org/fhir/CodeSystem/purpose-of-use|immigration-enforcement', description: 'comma-separated purposes of use (system|code) answered with 403 and audited; compared case-insensitively, http/https and trailing slashes alike; a bare code refuses that code in every system', parse: refusedPurposes },
  { key: 'audit', flag: '--audit', env: 'MIGFHIR_AUDIT', default: 'auto', description: 'AuditEvent per interaction: on, off, or auto (on unless --dev-open-access)', parse: oneOf('auto', 'on', 'off') },
  { key: 'auditKey', flag: '--audit-key', env: 'MIGFHIR_AUDIT_KEY', default: '', description: 'Ed25519 private key (PEM) that signs the audit trail\'s checkpoints, created when absent; keep it apart from the database (docs/audit.md); default DATA_DIR/audit-signing-key.pem' },
  { key: 'rateLimit', flag: '--rate-limit', env: 'MIGFHIR_RATE_LIMIT', default: '-1', description: 'requests per minute per client (per address for the public /metadata and discovery; see --anonymous-rate-limit and --token-rate-limit for the rest); 0 = none; -1 = 6000 with authorization, none with --dev-open-access', parse: integer(-1, 10_000_000) },
  { key: 'anonymousRateLimit', flag: '--anonymous-rate-limit', env: 'MIGFHIR_ANONYMOUS_RATE_LIMIT', default: '-1', description: 'requests per minute per address without a valid access token (each refused with 401 and audited); past it 429, and one AuditEvent per address and minute counts them; 0 = none; -1 = 60 with authorization', parse: integer(-1, 10_000_000) },
  { key: 'tokenRateLimit', flag: '--token-rate-limit', env: 'MIGFHIR_TOKEN_RATE_LIMIT', default: '-1', description: 'token requests per minute per address and registered client (unregistered client ids share one count per address); past it 429, and one AuditEvent per count and minute; 0 = none; -1 = 60 with authorization', parse: integer(-1, 10_000_000) },
  { key: 'corsOrigins', flag: '--cors-origins', env: 'MIGFHIR_CORS_ORIGINS', default: '', description: 'comma-separated origins allowed by CORS (browser apps); empty = CORS off', parse: (v) => v.split(',').map((x) => x.trim()).filter(Boolean) },
  { key: 'conditionalDeleteMax', flag: '--conditional-delete-max', env: 'MIGFHIR_CONDITIONAL_DELETE_MAX', default: '1', description: 'how many resources one conditional delete may remove; more matches get 412', parse: integer(1, 10000) },
  { key: 'mllpPort', flag: '--mllp-port', env: 'MIGFHIR_MLLP_PORT', default: '', description: 'HL7 v2 MLLP listener port (ADT in, ACK out); empty = off; 0 picks a free one', parse: (v) => (v === '' ? undefined : integer(0, 65535)(v)) },
  { key: 'mllpHost', flag: '--mllp-host', env: 'MIGFHIR_MLLP_HOST', default: '127.0.0.1', description: 'interface of the MLLP listener; MLLP has no authentication: trusted networks or a TLS tunnel only' },
  { key: 'mllpMaxBytes', flag: '--mllp-max-bytes', env: 'MIGFHIR_MLLP_MAX_BYTES', default: '1048576', description: 'largest MLLP frame; larger frames are discarded and answered with an AR ACK', parse: integer(1024, 2 ** 30) },
  { key: 'messageLogDays', flag: '--message-log-days', env: 'MIGFHIR_MESSAGE_LOG_DAYS', default: '7', description: 'days the inbound message log keeps each HL7 v2 message and national import (accepted or refused, with its text, for the console\'s replay); 0 = no log', parse: integer(0, 3650) },
  { key: 'messageLogMax', flag: '--message-log-max', env: 'MIGFHIR_MESSAGE_LOG_MAX', default: '10000', description: 'most entries the inbound message log keeps (the oldest go first); 0 = no log', parse: integer(0, 10_000_000) },
  { key: 'validation', flag: '--validation', env: 'MIGFHIR_VALIDATION', default: 'profiles', description: 'validation on write: off, base (R4 rules) or profiles (base + meta.profile + mandatory profiles), with per-type overrides, e.g. profiles,Binary=off; invalid writes get 422', parse: validationModes },
  { key: 'unknownExtensions', flag: '--unknown-extensions', env: 'MIGFHIR_UNKNOWN_EXTENSIONS', default: 'warning', description: 'on write, an extension no held definition (R4, the HL7 extensions pack, the IG, stored profiles) defines, outside hl7.org/fhir, or one used outside its context: error (422), warning (stored) or accept; unknown modifier extensions are always refused; $validate and migfhir validate report unknown extensions as errors like the HL7 reference validator', parse: oneOf('error', 'warning', 'accept') },
  { key: 'installIg', flag: '--install-ig', env: 'MIGFHIR_INSTALL_IG', default: 'true', description: "store the migrant-health IG's profiles, value sets, code systems, questionnaires … and the server's OperationDefinitions at start-up (readable and searchable; a deleted one stays deleted)", parse: bool },
  { key: 'mandatoryProfiles', flag: '--mandatory-profiles', env: 'MIGFHIR_MANDATORY_PROFILES', default: '', description: 'profiles every write of a type must meet in profiles mode, e.g. Patient=https://migfhir.org/fhir/StructureDefinition/migrant-patient', parse: typeProfiles },
  { key: 'matchGrades', flag: '--match-grades', env: 'MIGFHIR_MATCH_GRADES', default: 'certain=12,probable=7,possible=4', description: 'Patient/$match grade thresholds (total evidence weight), e.g. certain=13,probable=8 (the others keep their defaults); docs/match.md gives the precision and recall of each', parse: (v) => parseGrades(v) },
  { key: 'exportFileLines', flag: '--export-file-lines', env: 'MIGFHIR_EXPORT_FILE_LINES', default: '100000', description: 'Bulk Data $export: most resources (NDJSON lines) in one output file; a type with more is split into several files', parse: integer(1, 100_000_000) },
  { key: 'exportExpiryMinutes', flag: '--export-expiry-minutes', env: 'MIGFHIR_EXPORT_EXPIRY_MINUTES', default: '1440', description: 'Bulk Data $export: minutes a finished export\'s files stay downloadable (with the access token of the client that asked); then they are deleted', parse: integer(1, 525_600) },
  { key: 'importTrustedUrls', flag: '--import-trusted-urls', env: 'MIGFHIR_IMPORT_TRUSTED_URLS', default: '', description: 'Bulk Data $import: comma-separated URL prefixes the server may fetch NDJSON inputs from (e.g. https://exports.example.org/); empty = $import fetches nothing', parse: (v) => v.split(',').map((x) => x.trim()).filter(Boolean) },
  { key: 'prepareThreads', flag: '--prepare-threads', env: 'MIGFHIR_PREPARE_THREADS', default: '-1', description: 'worker threads that prepare bulk imports (parse, validate, label, extract search index rows) while the single writer stores the previous batch; 0 = none (the writer does it all, and the MLLP listener\'s mapping thread does not prepare either); -1 = the cores less one, at least 1', parse: integer(-1, 64) },
  { key: 'endpointsFile', flag: '--endpoints-file', env: 'MIGFHIR_ENDPOINTS_FILE', default: '', description: 'remote FHIR endpoints for `migfhir sync` (JSON: id, base URL, auth, adapter, timeouts); default DATA_DIR/endpoints.json' },
];

/** Flags win over environment variables, which win over defaults. */
export function loadConfig(argv: string[] = [], env: NodeJS.ProcessEnv = process.env): Config {
  const raw: Record<string, string> = {};
  for (const o of OPTIONS) raw[o.key] = env[o.env] ?? o.default;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    const o = OPTIONS.find((x) => x.flag === flag);
    if (!o) throw new Error(`unknown option '${argv[i]}' (see 'migfhir help')`);
    if (o.boolean && inline === undefined && (argv[i + 1] === undefined || argv[i + 1].startsWith('--'))) {
      raw[o.key] = 'true';
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new Error(`option ${flag} needs a value`);
    raw[o.key] = value;
  }
  const config: Record<string, unknown> = {};
  for (const o of OPTIONS) {
    const v = raw[o.key];
    try {
      config[o.key] = o.parse ? o.parse(v) : v;
    } catch (err) {
      throw new Error(`${o.flag} / ${o.env}: ${(err as Error).message}`);
    }
  }
  const baseUrl = (config.baseUrl as string).replace(/\/+$/, '') || undefined;
  let basePath = '/fhir';
  if (baseUrl) {
    let url: URL;
    try {
      url = new URL(baseUrl);
    } catch {
      throw new Error(`--base-url / MIGFHIR_BASE_URL: '${baseUrl}' is not an absolute URL`);
    }
    basePath = url.pathname.replace(/\/+$/, '');
  }
  const result = { ...config, baseUrl, basePath } as Config;
  if (result.defaultCount > result.maxCount) throw new Error('--default-count must not exceed --max-count');
  if (result.metricsAccess === 'token' && result.metricsToken.length < 32) throw new Error('--metrics-access token needs --metrics-token / MIGFHIR_METRICS_TOKEN of at least 32 characters');
  if (result.store === 'mongodb' && !result.mongodbUri) throw new Error('--store mongodb needs --mongodb-uri / MIGFHIR_MONGODB_URI');
  return result;
}

/** Defaults for tests and embedding: quiet, and open unless a test turns authorization on. */
export function testConfig(overrides: Partial<Config> = {}): Config {
  // tests start from an empty store unless they ask for the IG's resources
  return { ...loadConfig([], {}), logLevel: 'silent', devOpenAccess: true, installIg: false, ...overrides };
}
