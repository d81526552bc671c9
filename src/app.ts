// Builds the Fastify instance (src/server.ts listens): storage, R4 definitions, body parsing,
// error mapping and the FHIR routes under the base path.
import Fastify, { type FastifyInstance } from 'fastify';
import { join } from 'node:path';
import type { Config } from './config.ts';
import { loadDefinitions, ResourceTypes } from './fhir/definitions.ts';
import { clientErrorHandler, connectHandler, errorHandler, notFoundHandler, routingErrorHandler } from './http/errors.ts';
import { bodyText, parseJsonBody } from './http/json.ts';
import { requestLogger } from './http/request-logger.ts';
import { fromXml } from './fhir/xml/parse.ts';
import { isR4, XML_TYPES } from './http/negotiation.ts';
import { MALFORMED, parseQuery, type Query } from './fhir/query.ts';
import { FhirError } from './fhir/errors.ts';
import { registerRoutes } from './http/routes.ts';
import type { Context } from './rest/types.ts';
import { SqliteStore } from './store/sqlite/index.ts';
import { Repository } from './store/repository.ts';
import { writePipeline } from './store/write-pipeline.ts';
import { markSensitiveAnswers, storedQuestionnaires } from './questionnaire/sensitive-items.ts';
import type { ResourceStore, VersionWrite } from './store/types.ts';
import type { Resource } from 'fhir/r4.js';
import { SearchParamRegistry } from './search/registry.ts';
import { SearchParser, searchServices } from './search/parser.ts';
import { extractIndex } from './search/extract.ts';
import { applySearchParameterWrites, loadStoredSearchParameters } from './search/custom.ts';
import { invalidateCapabilities } from './rest/capabilities.ts';
import { ReindexJobs } from './operations/reindex.ts';
import { TokenService } from './auth/tokens.ts';
import { ClientsFile } from './auth/clients.ts';
import { registerAuth, type AuthShutdown } from './http/auth.ts';
import { Auditor } from './audit/audit.ts';
import { auditSink } from './audit/sinks.ts';
import { Terminology } from './terminology/service.ts';
import { ValidationService } from './validation/service.ts';
import { applyTerminologyWrites, loadStoredTerminology } from './terminology/stored.ts';
import { registerHardening } from './http/hardening.ts';
import { registerHl7v2Routes } from './http/hl7v2.ts';
import { registerHealth } from './http/health.ts';
import { registerMetrics } from './http/metrics.ts';
import { registerConsole } from './http/console.ts';
import { startMllp, type MllpServer } from './transport/mllp.ts';
import { migrateStatusIdentifiers } from './auth/sensitive-migration.ts';
import { loadIgPackage } from './ig/package.ts';
import { installIg, installResources } from './ig/install.ts';
import { OPERATION_SPECS } from './operations/index.ts';
import { operationDefinition } from './operations/definition.ts';
import { BulkJobs } from './bulk/jobs.ts';
import { registerBulkRoutes } from './http/bulk.ts';
import { InboundLog } from './inbound/log.ts';
import { PreparePool, prepareThreads } from './store/prepare/pool.ts';

export interface AppOptions {
  /** the window of the per-address limits on anonymous and token requests (tests shorten it);
   * one minute otherwise. Never a server option. */
  limitWindowMs?: number;
  /** the clock of those limits (tests move it instead of waiting); never a server option */
  limitNow?: () => number;
  /** where log lines go instead of stdout (tests read them to check what is logged) */
  logStream?: { write(line: string): void };
  /** use this store instead of opening the configured one (tests) */
  store?: ResourceStore;
  /** false: store resources without search index rows, so searches find nothing. Only for
   * measuring what write-time indexing costs (scripts/bench/indexing.ts); never a server option. */
  searchIndex?: boolean;
}

/** Types whose stored resources feed in-memory caches (search parameters, terminology, profiles). */
const CACHED_TYPES = new Set(['SearchParameter', 'StructureDefinition', 'CodeSystem', 'ValueSet', 'ConceptMap']);

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json', 'application/json+fhir'];

function clientsFile(config: Config, onError: (err: Error) => void): () => ReturnType<ClientsFile['current']> {
  const file = new ClientsFile(config.clientsFile || join(config.dataDir, 'clients.json'), onError);
  return () => file.current();
}

async function openStore(config: Config): Promise<ResourceStore> {
  if (config.store === 'mongodb') {
    // loaded only when chosen: the driver stays out of the embedded engine's start-up
    const { MongoStore } = await import('./store/mongo/index.ts');
    return MongoStore.open({ uri: config.mongodbUri });
  }
  return new SqliteStore({ path: join(config.dataDir, 'migfhir.sqlite'), synchronous: config.sqliteSynchronous });
}

function loggerOptions(config: Config, stream?: AppOptions['logStream']) {
  return {
    level: config.logLevel,
    ...(stream ? { stream } : {}),
    // URLs are logged without their query string: search values can hold patient data.
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, path: req.url.split('?')[0], id: req.id }),
    },
    ...(!stream && process.stdout.isTTY && config.logLevel !== 'silent' ? { transport: { target: 'pino-pretty' } } : {}),
  };
}

export async function buildApp(config: Config, options: AppOptions = {}): Promise<FastifyInstance> {
  const store = options.store ?? (await openStore(config));
  const defs = loadDefinitions();
  const types = new ResourceTypes(defs);
  const search = new SearchParamRegistry(defs.resourceTypes, defs.searchParameters, defs.paths);
  // absolute references count as local only on our own base URL (when it is configured)
  const localBases = config.baseUrl ? [config.baseUrl] : [];
  const indexer = (resource: Resource) => extractIndex(resource, search, localBases);
  const auditOn = config.audit === 'on' || (config.audit === 'auto' && !config.devOpenAccess);
  const terminology = new Terminology();
  const searchParser = new SearchParser(searchServices(search, terminology), config);
  // the IG's terminology and profiles (ig/package, built by npm run build:ig)
  const ig = loadIgPackage();
  if (ig) terminology.addPackage(ig);
  const validation = new ValidationService(terminology, defs.resourceTypes, { modes: config.validation, mandatoryProfiles: config.mandatoryProfiles, unknownExtensions: config.unknownExtensions });
  // the IG's profiles first: a StructureDefinition stored with the same url replaces one
  if (ig) validation.addPackage(ig.structureDefinitions.values());
  const unusableProfiles = await validation.loadStored(store);
  // every write, whichever door it came through, passes one pipeline (src/store/write-pipeline.ts);
  // answers to questions the IG marks sensitive are labelled on write (leak #14.5)
  const pipeline = writePipeline({
    types,
    validation,
    marker: async (resource, tx) => {
      if (resource.resourceType === 'QuestionnaireResponse') await markSensitiveAnswers(resource, storedQuestionnaires(tx, searchParser, ig?.questionnaires ?? []));
    },
  });
  const repo = new Repository(store, options.searchIndex === false ? undefined : indexer, pipeline);
  // a failed audit write is logged (the app's logger exists only further down)
  let auditError: (err: Error) => void = () => undefined;
  const audit = auditOn ? new Auditor(await auditSink(repo, (err) => auditError(err), config.auditKey || (config.store === 'mongodb' && !options.store ? join(config.dataDir, 'audit-signing-key.pem') : undefined)), (err) => auditError(err)) : undefined;
  // bulk writes prepared on other threads, built from the same settings (src/store/prepare)
  const policy = { modes: config.validation, mandatoryProfiles: config.mandatoryProfiles, unknownExtensions: config.unknownExtensions };
  const prepare = new PreparePool(store, { policy, bases: localBases, indexing: options.searchIndex !== false }, prepareThreads(config.prepareThreads));
  const ctx: Context = { config, types, repo, search, searchParser, jobs: new ReindexJobs(repo), terminology, validation, prepare, ...(ig ? { ig } : {}), ...(audit ? { audit } : {}) };
  ctx.bulk = new BulkJobs(ctx);
  // failures to log a message are reported without it (src/inbound/log.ts)
  let inboundError: (err: Error) => void = () => undefined;
  ctx.inbound = new InboundLog(store.messageLog?.(), { days: config.messageLogDays, max: config.messageLogMax }, (err) => inboundError(err));
  const customParams = new Map<string, string>();
  await loadStoredSearchParameters(store, search, customParams);
  const terminologyUrls = new Map<string, string>();
  await loadStoredTerminology(store, terminology, terminologyUrls);
  // caches built from stored resources follow this process's commits at once, and other
  // processes' through the store's watch (MongoDB); each version is applied once, in order
  const cachedVersions = new Map<string, number>();
  const applyWrites = (all: VersionWrite[]) => {
    const written = all.filter((w) => {
      if (!CACHED_TYPES.has(w.resourceType)) return false;
      const key = `${w.resourceType}/${w.id}`;
      if ((cachedVersions.get(key) ?? 0) >= w.versionId) return false;
      cachedVersions.set(key, w.versionId);
      return true;
    });
    if (!written.length) return;
    prepare.conformanceChanged();
    if (applySearchParameterWrites(search, written, customParams)) invalidateCapabilities(ctx);
    applyTerminologyWrites(terminology, written, terminologyUrls);
    validation.applyWrites(written);
  };
  ctx.repo.onCommit(applyWrites);
  store.watch?.([...CACHED_TYPES], applyWrites);
  // Slow clients (headers or a body trickled a byte at a time) hold a connection only so long:
  // the headers within a third of the request timeout (at most 10 s), the whole request within
  // it; Node checks every second instead of its default 30 s, then answers 408.
  const headersTimeout = Math.min(10_000, Math.ceil(config.requestTimeout / 3));
  const app = Fastify({
    logger: loggerOptions(config, options.logStream),
    // a request's pino child is made only when it writes a line (src/http/request-logger.ts)
    childLoggerFactory: requestLogger,
    bodyLimit: config.maxBodyBytes,
    requestIdHeader: 'x-request-id',
    routerOptions: { ignoreTrailingSlash: true, querystringParser: parseQuery, maxParamLength: 200 },
    requestTimeout: config.requestTimeout,
    http: { headersTimeout, connectionsCheckingInterval: Math.min(1000, headersTimeout) },
    frameworkErrors: routingErrorHandler,
    clientErrorHandler,
  });
  app.server.on('connect', connectHandler);
  app.decorate('fhir', ctx);
  auditError = (err) => {
    app.log.error({ err }, 'audit trail');
  };
  inboundError = (err) => {
    app.log.error(`inbound message log: ${err.message}`);
  };
  for (const u of unusableProfiles) app.log.warn(`StructureDefinition ${u.url} cannot be used to validate: ${u.reason}`);
  if (config.installIg && ig) {
    const report = await installIg(repo, ig);
    if (report.written) app.log.info(`IG ${ig.name} ${ig.version}: ${report.written} conformance resources stored (${report.unchanged} unchanged)`);
    for (const skipped of report.skipped) app.log.warn(`IG ${ig.name}: not installed: ${skipped}`);
  }
  if (config.installIg) {
    // what CapabilityStatement.rest.operation.definition points to, readable and searchable
    const report = await installResources(repo, OPERATION_SPECS.map(operationDefinition));
    if (report.written) app.log.info(`${report.written} OperationDefinitions stored (${report.unchanged} unchanged)`);
    for (const skipped of report.skipped) app.log.warn(`OperationDefinition not installed: ${skipped}`);
  }
  if (store.atomicTransactions === false) {
    app.log.warn(`${store.engine}: the server is standalone (no replica set), so several writes cannot be made atomic: transaction Bundles will be refused with 501; batch Bundles and single writes work`);
  }
  await registerHardening(app, config);
  // after the security headers' hook, so the 400 carries them too
  app.addHook('onRequest', (request, _reply, done) => {
    done((request.query as Query)[MALFORMED]);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    done(null, payload);
  });
  app.removeAllContentTypeParsers();
  // a body in another FHIR version than R4 would be stored as if it were R4
  app.addHook('preParsing', (request, _reply, payload, done) => {
    const params = (request.headers['content-type'] ?? '').split(';').slice(1).map((p) => p.trim().toLowerCase());
    if (isR4(params)) done(null, payload);
    else done(new FhirError(415, { code: 'not-supported', diagnostics: 'The body is declared as another FHIR version than R4 (fhirVersion=4.0)' }), undefined);
  });
  app.addContentTypeParser(JSON_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    try {
      // a JSON Patch document is only ever the body of a PATCH: created or updated, it would be stored as a resource
      if (request.method !== 'PATCH' && request.headers['content-type']?.split(';')[0].trim().toLowerCase() === 'application/json-patch+json') {
        throw new FhirError(415, { code: 'not-supported', diagnostics: 'application/json-patch+json is accepted only by PATCH: send resources as application/fhir+json' });
      }
      done(null, parseJsonBody(bodyText(body as Buffer, request.headers['content-encoding']), config.maxJsonDepth));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // FHIR XML bodies are read into the JSON form every handler takes (src/fhir/xml/parse.ts)
  app.addContentTypeParser(XML_TYPES, { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const text = bodyText(body as Buffer, request.headers['content-encoding']);
      // $validate reports where each issue is in the text sent: only there are positions kept
      const positions = request.url.includes('$validate');
      done(null, /^\s*$/.test(text) ? undefined : fromXml(text, { maxDepth: config.maxJsonDepth, positions }));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  // POST [type]/_search sends its parameters as a form
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'buffer' }, (request, body, done) => {
    try {
      const form = parseQuery(bodyText(body as Buffer, request.headers['content-encoding']));
      done(form[MALFORMED] ?? null, form);
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  const tokens = config.devOpenAccess
    ? undefined
    : await TokenService.create(join(config.dataDir, 'token-signing-key.json'), clientsFile(config, (err) => app.log.error(`clients file: ${err.message}; the clients read before stay registered`)));
  let auth: AuthShutdown | undefined;
  registerHealth(app, ctx);
  registerMetrics(app, ctx);
  registerConsole(app, ctx);
  await app.register(
    async (api) => {
      auth = registerAuth(api, ctx, tokens, { limitWindowMs: options.limitWindowMs, limitNow: options.limitNow });
      registerRoutes(api, ctx);
      registerBulkRoutes(api, ctx);
      await api.register(registerHl7v2Routes(ctx));
    },
    { prefix: config.basePath },
  );
  await ctx.jobs.resume();
  await ctx.bulk.resume();
  // Rows indexed before sensitive rows were marked: only custom parameters can hold rows from
  // sensitive elements (R4's own read only named extensions, none sensitive), so their types are reindexed,
  // once, in the background (the Task resumes if the server stops first).
  if (store.unmarkedSensitiveRows && customParams.size && options.searchIndex !== false) {
    const task = await ctx.jobs.start(search.customBases());
    app.log.warn(`search index written by an earlier version: reindexing the types of custom SearchParameters to mark rows from migration data (Task/${task.id})`);
  }
  // resources stored before status-revealing identifiers were labelled and their rows marked
  if (store.unmarkedStatusIdentifiers && options.searchIndex !== false) {
    const n = await migrateStatusIdentifiers(store, repo);
    if (n) app.log.warn(`search index written by an earlier version: ${n} resources holding status-revealing identifiers were labelled and reindexed`);
  }
  ctx.inbound.start();
  app.decorate('mllp', await startMllp(app, ctx));
  app.addHook('onClose', async () => {
    await ctx.jobs.stop();
    await ctx.bulk?.stop();
    await prepare.close();
    ctx.inbound?.stop();
    // the limits' open windows leave their events before the trail closes
    auth?.close();
    await ctx.audit?.close();
    if (!options.store) await store.close();
  });
  return app;
}

declare module 'fastify' {
  interface FastifyInstance {
    fhir: Context;
    /** the HL7 v2 MLLP listener, when --mllp-port is set */
    mllp?: MllpServer;
  }
}
