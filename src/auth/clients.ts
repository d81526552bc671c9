// Registered backend-service clients: a JSON file (default <data-dir>/clients.json) that
// `migfhir clients add` writes. Each client has its public keys (JWKS), the scopes it may be
// granted, and optionally the organisations it is restricted to.
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { JSONWebKeySet } from 'jose';
import { ANONYMOUS_CLIENT, RETENTION_CLIENT } from '../audit/audit.ts';

export interface RegisteredClient {
  clientId: string;
  name?: string;
  jwks: JSONWebKeySet;
  /** the most this client may be granted, e.g. "system/*.rs system/Observation.c" */
  scope: string;
  /** purposes of use the client declares by default (v3 PurposeOfUse codes, system|code) */
  purposeOfUse?: string[];
}

/** The file's JSON: {"clients": [...]} */
interface ClientsDocument {
  clients: RegisteredClient[];
}

/** Client ids the server's own audit events use as their agent: `migfhir audit verify` trusts the
 * event of a retention cut by its agent (docs/audit.md), so a registered client of that name could
 * make a search whose AuditEvent looks like one; and the events of requests without a valid token
 * name `anonymous`, so a client of that name would hide its reads among them (and
 * `AuditEvent?altid=anonymous` would no longer tell unauthenticated requests apart). */
export const RESERVED_CLIENT_IDS: ReadonlySet<string> = new Set([RETENTION_CLIENT, ANONYMOUS_CLIENT]);

function refuseReserved(path: string, clientId: string): void {
  if (RESERVED_CLIENT_IDS.has(clientId)) throw new Error(`${path}: the client id '${clientId}' is reserved for the server's own audit events`);
}

export function readClients(path: string): RegisteredClient[] {
  if (!existsSync(path)) return [];
  const data = JSON.parse(readFileSync(path, 'utf8')) as ClientsDocument;
  if (!Array.isArray(data.clients)) throw new Error(`${path}: expected {"clients": [...]}`);
  for (const c of data.clients) {
    if (!c.clientId || !c.jwks?.keys?.length || typeof c.scope !== 'string') {
      throw new Error(`${path}: every client needs clientId, jwks.keys and scope`);
    }
    refuseReserved(path, c.clientId);
  }
  return data.clients;
}

/**
 * The clients file as a running server sees it: read again when it changed, so a client that
 * `migfhir clients add` registers (or changes, or removes) while the server runs counts at its
 * next token request, without a restart. The file's size and modification time are checked at
 * most once a second; a file that cannot be read keeps the clients last read (and says why once).
 */
export class ClientsFile {
  private clients: RegisteredClient[];
  private stamp: string;
  private checked = Date.now();
  private readonly path: string;
  private readonly onError: (err: Error) => void;

  constructor(path: string, onError: (err: Error) => void = () => undefined) {
    this.path = path;
    this.onError = onError;
    this.stamp = stampOf(path);
    this.clients = readClients(path);
  }

  current(now = Date.now()): RegisteredClient[] {
    if (now - this.checked < 1000) return this.clients;
    this.checked = now;
    const stamp = stampOf(this.path);
    if (stamp === this.stamp) return this.clients;
    try {
      this.clients = readClients(this.path);
      this.stamp = stamp;
    } catch (err) {
      if (this.stamp !== `bad ${stamp}`) this.onError(err as Error);
      this.stamp = `bad ${stamp}`;
    }
    return this.clients;
  }
}

function stampOf(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size} ${s.mtimeMs} ${s.ino}`;
  } catch {
    return 'absent';
  }
}

/** Adds or replaces a client (atomically rewrites the file, readable by its owner only). */
export function writeClient(path: string, client: RegisteredClient): void {
  refuseReserved(path, client.clientId);
  const clients = readClients(path).filter((c) => c.clientId !== client.clientId);
  clients.push(client);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify({ clients }, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, path);
}
