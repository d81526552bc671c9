// Enforcement of SMART scopes on every interaction. Handlers call `authorize` with the
// resource type and the permission the interaction needs; searches also check every type a
// chain, _has or _include reaches, so nothing leaks through a join. Without an auth context
// (development open mode) everything is allowed.
import { FhirError } from '../fhir/errors.ts';
import type { Permission, Scopes } from './scopes.ts';

export interface AuthContext {
  clientId: string;
  scopes: Scopes;
  purposeOfUse: string[];
}

const NAMES: Record<Permission, string> = { c: 'create', r: 'read', u: 'update', d: 'delete', s: 'search' };

export function forbidden(diagnostics: string): FhirError {
  return new FhirError(403, { code: 'forbidden', diagnostics });
}

export function allows(auth: AuthContext | undefined, type: string, permission: Permission): boolean {
  return !auth || auth.scopes.allows(type, permission);
}

export function authorize(auth: AuthContext | undefined, type: string, ...permissions: Permission[]): void {
  if (!auth) return;
  for (const p of permissions) {
    if (!auth.scopes.allows(type, p)) throw forbidden(`The access token does not allow ${NAMES[p]} on ${type}`);
  }
}

/** For interactions across all types (system history, $reindex): a `system/*` grant. */
export function authorizeAll(auth: AuthContext | undefined, ...permissions: Permission[]): void {
  if (!auth) return;
  for (const p of permissions) {
    if (!auth.scopes.grants.some((g) => g.type === '*' && g.permissions.has(p))) {
      throw forbidden(`This interaction needs a system/*.${p} scope`);
    }
  }
}
