// SMART scopes, v1 (`system/Patient.read`, `system/*.write`) and v2 (`system/Observation.rs`,
// `system/*.cruds`): https://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
// Backend services act as systems, so only `system/` scopes grant access; v2 query
// restrictions (`?category=…`) are not supported and such scopes are refused.
import { TYPE_SOURCE } from '../fhir/reference.ts';

/** c create, r read, u update, d delete, s search */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

export interface ScopeGrant {
  type: string; // resource type or '*'
  permissions: Set<Permission>;
}

const V1: Record<string, Permission[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ['c', 'r', 'u', 'd', 's'] };
const SCOPE = new RegExp(`^system/(\\*|${TYPE_SOURCE})\\.(read|write|\\*|c?r?u?d?s?)$`);

/** Parses one scope; undefined when it is not a system resource scope this server grants. */
export function parseScope(scope: string): ScopeGrant | undefined {
  const m = SCOPE.exec(scope);
  if (!m || m[2] === '') return undefined;
  const perms = V1[m[2]] ?? (m[2].split('') as Permission[]);
  return { type: m[1], permissions: new Set(perms) };
}

/** The scope that lets a client see migration status, journey and vulnerability elements. */
export const MIGRATION_DATA_SCOPE = 'migfhir/migration-data.read';

/** The scope that lets a client list the inbound message log ($inbound-messages): when each
 * HL7 v2 message or national import came, from whom, its ACK and what it wrote. Reading a
 * message's text needs MIGRATION_DATA_SCOPE as well. */
export const INTEGRATION_SCOPE = 'migfhir/integration.read';

/** The server's own scopes, beside the SMART resource scopes. */
export const SERVER_SCOPES = [MIGRATION_DATA_SCOPE, INTEGRATION_SCOPE];

export class Scopes {
  readonly grants: ScopeGrant[];
  readonly text: string;
  /** granted MIGRATION_DATA_SCOPE */
  readonly sensitive: boolean;
  /** granted INTEGRATION_SCOPE */
  readonly integration: boolean;

  constructor(scope: string) {
    const list = scope.split(/\s+/).filter(Boolean);
    this.grants = list.map(parseScope).filter((g): g is ScopeGrant => !!g);
    this.sensitive = list.includes(MIGRATION_DATA_SCOPE);
    this.integration = list.includes(INTEGRATION_SCOPE);
    this.text = scope;
  }

  allows(type: string, permission: Permission): boolean {
    return this.grants.some((g) => (g.type === '*' || g.type === type) && g.permissions.has(permission));
  }

  /** Scopes of `requested` that `allowed` covers, as granted scope text. */
  static intersect(requested: string, allowed: Scopes): string {
    return requested
      .split(/\s+/)
      .filter(Boolean)
      .filter((s) => {
        if (s === MIGRATION_DATA_SCOPE) return allowed.sensitive;
        if (s === INTEGRATION_SCOPE) return allowed.integration;
        const g = parseScope(s);
        return !!g && [...g.permissions].every((p) => (g.type === '*' ? allowed.grants.some((a) => a.type === '*' && a.permissions.has(p)) : allowed.allows(g.type, p)));
      })
      .join(' ');
  }
}
