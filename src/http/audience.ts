// The base URL that token audiences are bound to. SMART Backend Services checks a client
// assertion's `aud` against the token endpoint's URL, and access tokens carry the server's base
// as their audience. Built from the request's Host header, both would accept whatever a caller
// names: an assertion made for another server (sharing the client's registration) could be
// replayed here with `Host: other-server`. So with `--base-url` the configured URL is the only
// audience; without it, only the addresses this server really listens on count (loopback names
// for a loopback bind, the machine's interfaces and host name for a wildcard bind), and any other
// Host gets a refusal that says to set --base-url (a server behind a reverse proxy needs it).
import { hostname, networkInterfaces } from 'node:os';
import type { AddressInfo, Server } from 'node:net';
import type { FastifyRequest } from 'fastify';
import { baseUrlOf } from './routes.ts';
import type { Context } from '../rest/types.ts';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const WILDCARD = new Set(['0.0.0.0', '::']);

/** host:port forms a client may use to reach a listening address. */
export function listeningHosts(address: AddressInfo): Set<string> {
  const names = new Set<string>();
  const add = (host: string) => names.add(`${host.includes(':') ? `[${host}]` : host}:${address.port}`.toLowerCase());
  if (WILDCARD.has(address.address)) {
    for (const list of Object.values(networkInterfaces())) for (const i of list ?? []) add(i.address);
    add(hostname());
    add('localhost');
  } else {
    add(address.address);
    if (LOOPBACK.has(address.address)) add('localhost');
  }
  return names;
}

/** listeningHosts per listening address: it lists the machine's interfaces, and every
 * authorized request without --base-url asks (the address does not change while listening). */
const hostsByAddress = new Map<string, Set<string>>();
/** The hosts of each listening server, from its address: server.address() is a getsockname
 * system call (~8 µs, a tenth of an open-mode read), and it cannot change until the server
 * closes, when its entry goes. */
const hostsByServer = new WeakMap<Server, Set<string>>();

export function hostsOf(server: Server): Set<string> | undefined {
  const known = hostsByServer.get(server);
  if (known) return known;
  const address = server.address();
  if (!address || typeof address === 'string') return undefined;
  const key = `${address.address} ${address.port}`;
  let hosts = hostsByAddress.get(key);
  if (!hosts) hostsByAddress.set(key, (hosts = listeningHosts(address)));
  hostsByServer.set(server, hosts);
  server.once('close', () => hostsByServer.delete(server));
  return hosts;
}

/** The base URL for token audiences, or undefined when the request's Host is not this server's. */
export function audienceBase(request: FastifyRequest, ctx: Context): string | undefined {
  if (ctx.config.baseUrl) return ctx.config.baseUrl;
  const hosts = hostsOf(request.server.server);
  return hosts?.has(request.host.toLowerCase()) ? baseUrlOf(request, ctx) : undefined;
}

export const UNTRUSTED_HOST = 'The Host header names no address this server listens on; tokens are bound to the server\'s own URL (set --base-url to the public base URL behind a reverse proxy)';
