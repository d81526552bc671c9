// `migfhir token`: a SMART Backend Services access token for a registered client, printed for
// use with curl (`-H "Authorization: Bearer $TOKEN"`). It signs the client assertion with the
// client's private key and exchanges it at the server's token endpoint — the same code
// `migfhir sync` uses against remote endpoints (src/sync/auth.ts) — so an operator can try a
// secured server, or a client's registration, from a shell. `--assertion` prints only the signed
// assertion, to make the exchange by hand.
import { clientAssertion, credentialsFor } from '../sync/auth.ts';
import type { Endpoint, SmartBackendAuth } from '../sync/endpoints.ts';

const USAGE = `Usage:
  migfhir token --server BASE_URL --client CLIENT_ID --key KEY.jwk.json --scope "system/Patient.rs ..." [--token-url URL] [--assertion]
    prints an access token (or, with --assertion, the signed client assertion) on stdout`;

function flags(argv: string[]): { values: Record<string, string>; assertion: boolean } {
  const values: Record<string, string> = {};
  let assertion = false;
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split(/=(.*)/s, 2);
    if (k === '--assertion') {
      assertion = true;
      continue;
    }
    if (!k.startsWith('--')) throw new Error(`unexpected argument '${argv[i]}'\n${USAGE}`);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value\n${USAGE}`);
    values[k.slice(2)] = v;
  }
  return { values, assertion };
}

export async function tokenCommand(argv: string[]): Promise<number> {
  const { values: f, assertion } = flags(argv);
  if (!f.server || !f.client || !f.key || (!f.scope && !assertion)) throw new Error(`--server, --client, --key and --scope are required\n${USAGE}`);
  const baseUrl = f.server.replace(/\/+$/, '');
  const auth: SmartBackendAuth = { type: 'smart-backend-services', clientId: f.client, privateKeyFile: f.key, scope: f.scope ?? '', ...(f['token-url'] ? { tokenUrl: f['token-url'] } : {}) };
  if (assertion) {
    process.stdout.write(`${await clientAssertion(auth, f['token-url'] ?? `${baseUrl}/auth/token`)}\n`);
    return 0;
  }
  const endpoint: Endpoint = {
    id: new URL(baseUrl).host, baseUrl, adapter: 'fhir-r4', auth, timeoutMs: 30_000, pageSize: 100, migrationData: false,
    retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0, maxRetryAfterMs: 0 },
  };
  const headers = await credentialsFor(endpoint).headers();
  process.stdout.write(`${headers.authorization.replace(/^Bearer /, '')}\n`);
  return 0;
}
