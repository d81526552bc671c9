// Registered backend-service clients: a JSON file (default <data-dir>/clients.json) that
// `migfhir clients add` writes. Each client has its public keys (JWKS), the scopes it may be
// granted, and optionally the organisations it is restricted to.
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JSONWebKeySet } from 'jose';

export interface RegisteredClient {
  clientId: string;
  name?: string;
  jwks: JSONWebKeySet;
  /** the most this client may be granted, e.g. "system/*.rs system/Observation.c" */
  scope: string;
  /** purposes of use the client declares by default (v3 PurposeOfUse codes, system|code) */
  purposeOfUse?: string[];
}

export interface ClientsFile {
  clients: RegisteredClient[];
}

export function readClients(path: string): RegisteredClient[] {
  if (!existsSync(path)) return [];
  const data = JSON.parse(readFileSync(path, 'utf8')) as ClientsFile;
  if (!Array.isArray(data.clients)) throw new Error(`${path}: expected {"clients": [...]}`);
  for (const c of data.clients) {
    if (!c.clientId || !c.jwks?.keys?.length || typeof c.scope !== 'string') {
      throw new Error(`${path}: every client needs clientId, jwks.keys and scope`);
    }
  }
  return data.clients;
}

/** Adds or replaces a client (atomically rewrites the file, readable by its owner only). */
export function writeClient(path: string, client: RegisteredClient): void {
  const clients = readClients(path).filter((c) => c.clientId !== client.clientId);
  clients.push(client);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ clients }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
