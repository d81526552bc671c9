// `migfhir sync pull|push|endpoints|keygen`: copy a patient's record between this installation
// and the remote FHIR endpoints of the endpoints file (src/sync). Results and --dry-run Bundles
// go to stdout; progress, retry notices and the one-line error go to stderr.
import { writeFileSync } from 'node:fs';
import { exportJWK, generateKeyPair } from 'jose';
import { randomUUID } from 'node:crypto';
import { loadConfig, type Config } from '../config.ts';
import { FhirError } from '../fhir/errors.ts';
import { endpointFor, endpointsPath, readEndpoints } from '../sync/endpoints.ts';
import { SyncError } from '../sync/errors.ts';
import { localRecord, localRequest, localWriter, remoteWriter, type RecordWriter } from '../sync/local.ts';
import { Progress } from '../sync/progress.ts';
import { pull } from '../sync/pull.ts';
import { push } from '../sync/push.ts';
import { RemoteFhir } from '../sync/remote.ts';

const USAGE = `Usage:
  migfhir sync pull --from ENDPOINT --identifier SYSTEM|VALUE [--to ENDPOINT|URL] [--dry-run] [options]
  migfhir sync push --to ENDPOINT --patient ID [--dry-run] [options]
  migfhir sync endpoints [options]          list the configured endpoints
  migfhir sync keygen --out KEY.jwk.json    make an ES384 key pair for SMART Backend Services:
                                            the private JWK goes to the file, the public JWKS to stdout
ENDPOINT is an id from the endpoints file (--endpoints-file, default DATA_DIR/endpoints.json)
or a base URL. Without --to, pull writes into the local store (--data-dir).`;

const OWN = new Set(['--from', '--to', '--identifier', '--patient', '--out']);

function split(argv: string[]): { own: Record<string, string>; dryRun: boolean; rest: string[] } {
  const own: Record<string, string> = {};
  const rest: string[] = [];
  let dryRun = false;
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split(/=(.*)/s, 2);
    if (flag === '--dry-run') dryRun = true;
    else if (OWN.has(flag)) {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new SyncError(`${flag} needs a value\n${USAGE}`);
      own[flag.slice(2)] = v;
    } else rest.push(argv[i]);
  }
  return { own, dryRun, rest };
}

function remoteFor(config: Config, idOrUrl: string, progress: Progress): RemoteFhir {
  return new RemoteFhir(endpointFor(config, idOrUrl), {
    onRetry: (n) => progress.note(`migfhir sync: ${n.endpoint}: attempt ${n.attempt} failed (${n.reason}); retrying in ${(n.delayMs / 1000).toFixed(1)} s`),
  });
}

async function withLocal<T>(config: Config, work: (app: Awaited<ReturnType<typeof import('../app.ts')['buildApp']>>) => Promise<T>): Promise<T> {
  const { buildApp } = await import('../app.ts');
  // the store as the server sees it; no listener of any kind, quiet unless something is wrong
  const app = await buildApp({ ...config, mllpPort: undefined, logLevel: config.logLevel === 'info' ? 'warn' : config.logLevel });
  try {
    return await work(app);
  } finally {
    await app.close();
  }
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

async function pullCommand(config: Config, own: Record<string, string>, dryRun: boolean, progress: Progress): Promise<number> {
  if (!own.from || !own.identifier) throw new SyncError(`pull needs --from and --identifier\n${USAGE}`);
  if (!own.identifier.includes('|')) throw new SyncError('--identifier takes system|value (e.g. https://www.amka.gr|12038801234)');
  const remote = remoteFor(config, own.from, progress);
  const run = async (writer: RecordWriter | undefined) => {
    const r = await pull(remote, own.identifier, writer, progress);
    progress.clear();
    if (dryRun) {
      print(JSON.stringify(r.bundle, null, 2));
      process.stderr.write(`migfhir sync: dry run: ${r.fetched} resources from ${remote.endpoint.id} via ${r.via}; nothing was written\n`);
    } else if (r.duplicate) {
      print(`pulled from ${remote.endpoint.id}: ${r.fetched} resources via ${r.via}; already up to date, nothing written`);
    } else {
      print(`pulled ${r.patient ?? 'the patient'} from ${remote.endpoint.id}: ${r.fetched} resources via ${r.via}; ${r.created} created, ${r.updated} updated or unchanged${r.unresolved ? `; ${r.unresolved} references kept as links to ${remote.endpoint.baseUrl}` : ''}`);
    }
    return 0;
  };
  if (dryRun) return run(undefined);
  if (own.to) return run(remoteWriter(remoteFor(config, own.to, progress)));
  return withLocal(config, (app) => run(localWriter(app.fhir, localRequest(config), `sync:${remote.endpoint.id}`)));
}

async function pushCommand(config: Config, own: Record<string, string>, dryRun: boolean, progress: Progress): Promise<number> {
  if (!own.to || !own.patient) throw new SyncError(`push needs --to and --patient\n${USAGE}`);
  const remote = remoteFor(config, own.to, progress);
  const req = localRequest(config);
  const resources = await withLocal(config, (app) => localRecord(app.fhir, req, own.patient, (n) => progress.update('reading the record', n)));
  const r = await push(remote, own.patient, resources, req.baseUrl, dryRun, progress);
  progress.clear();
  if (dryRun) {
    print(JSON.stringify(r.bundle, null, 2));
    process.stderr.write(`migfhir sync: dry run: ${r.sent} resources for ${remote.endpoint.id}; nothing was sent\n`);
  } else if (r.duplicate) {
    print(`pushed Patient/${own.patient} to ${remote.endpoint.id}: already there (this content was sent before), nothing sent`);
  } else {
    print(`pushed Patient/${own.patient} to ${remote.endpoint.id} as ${r.patient ?? 'the patient'}: ${r.sent} resources; ${r.created} created, ${r.updated} updated or unchanged`);
  }
  return 0;
}

async function keygen(own: Record<string, string>): Promise<number> {
  if (!own.out) throw new SyncError(`keygen needs --out\n${USAGE}`);
  const { privateKey, publicKey } = await generateKeyPair('ES384', { extractable: true });
  const kid = randomUUID();
  writeFileSync(own.out, `${JSON.stringify({ ...(await exportJWK(privateKey)), kid, alg: 'ES384' })}\n`, { mode: 0o600, flag: 'wx' });
  print(JSON.stringify({ keys: [{ ...(await exportJWK(publicKey)), kid, alg: 'ES384', use: 'sig' }] }, null, 2));
  return 0;
}

export async function syncCommand(argv: string[]): Promise<number> {
  const [sub, ...args] = argv;
  const progress = new Progress();
  try {
    const { own, dryRun, rest } = split(args);
    if (sub === 'keygen') return await keygen(own);
    const config = loadConfig(rest);
    if (/fhir-kit-client/.test(process.env.DEBUG ?? '')) {
      process.stderr.write('migfhir sync: WARNING: DEBUG names fhir-kit-client, which then logs request headers (tokens) and response bodies\n');
    }
    switch (sub) {
      case 'pull':
        return await pullCommand(config, own, dryRun, progress);
      case 'push':
        return await pushCommand(config, own, dryRun, progress);
      case 'endpoints':
        for (const e of readEndpoints(endpointsPath(config))) print(`${e.id}\t${e.baseUrl}\t${e.adapter}\t${e.auth?.type ?? 'no auth'}`);
        return 0;
      default:
        process.stderr.write(`${USAGE}\n`);
        return 2;
    }
  } catch (err) {
    progress.clear();
    const where = err instanceof FhirError ? `the local store refused the record (HTTP ${err.status}): ` : '';
    process.stderr.write(`migfhir sync: ${where}${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
