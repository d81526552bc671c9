// `migfhir clients add|list`: registers SMART backend-service clients in the clients file.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { readClients, writeClient } from '../auth/clients.ts';
import { parseScope, SERVER_SCOPES } from '../auth/scopes.ts';
import { parsePurposes, purposeText } from '../auth/purpose.ts';

const USAGE = `Usage:
  migfhir clients add --id CLIENT_ID --jwks JWKS.json --scope "system/Patient.rs ..." [--name NAME] [--purpose system|code] [--clients-file FILE | --data-dir DIR]
  migfhir clients list [--clients-file FILE | --data-dir DIR]`;

function flags(argv: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const [k, inline] = argv[i].split(/=(.*)/s, 2);
    if (!k.startsWith('--')) throw new Error(`unexpected argument '${argv[i]}'\n${USAGE}`);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`${k} needs a value\n${USAGE}`);
    out[k.slice(2)] = v;
  }
  return out;
}

function clientsPath(f: Record<string, string>): string {
  if (f['clients-file']) return resolve(f['clients-file']);
  return join(resolve(f['data-dir'] ?? process.env.MIGFHIR_DATA_DIR ?? './data'), 'clients.json');
}

export function clientsCommand(argv: string[]): number {
  const [sub, ...rest] = argv;
  const f = flags(rest);
  const path = process.env.MIGFHIR_CLIENTS_FILE && !f['clients-file'] && !f['data-dir'] ? resolve(process.env.MIGFHIR_CLIENTS_FILE) : clientsPath(f);
  if (sub === 'list') {
    for (const c of readClients(path)) process.stdout.write(`${c.clientId}\t${c.scope}\t${c.jwks.keys.length} key(s)${c.name ? `\t${c.name}` : ''}\n`);
    return 0;
  }
  if (sub !== 'add') throw new Error(USAGE);
  if (!f.id || !f.jwks || !f.scope) throw new Error(`--id, --jwks and --scope are required\n${USAGE}`);
  const jwks = JSON.parse(readFileSync(f.jwks, 'utf8'));
  const keys = Array.isArray(jwks.keys) ? jwks.keys : [jwks];
  if (keys.some((k: Record<string, unknown>) => 'd' in k)) throw new Error('the JWKS holds a private key; register the public keys only');
  const bad = f.scope.split(/\s+/).filter((s) => !parseScope(s) && !SERVER_SCOPES.includes(s));
  if (bad.length) throw new Error(`not system scopes this server grants: ${bad.join(' ')}`);
  // parsed as the firewall parses them, so a registered purpose is never one it cannot read
  let purposes: string[] = [];
  try {
    purposes = parsePurposes(f.purpose).map(purposeText);
  } catch (err) {
    throw new Error(`--purpose: ${(err as Error).message}`);
  }
  writeClient(path, { clientId: f.id, ...(f.name ? { name: f.name } : {}), jwks: { keys }, scope: f.scope, ...(purposes.length ? { purposeOfUse: purposes } : {}) });
  process.stdout.write(`migfhir: client '${f.id}' registered in ${path} (restart the server to load it)\n`);
  return 0;
}
