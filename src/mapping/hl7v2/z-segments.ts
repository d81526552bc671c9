// Z-segments (site-defined segments) by a declarative, per-sender mapping file
// (z-segments.json): migration status, interpreter need, language and national migrant card
// numbers that hospitals send in their own segments. The file is checked when it is loaded
// (an unknown target, migration-status code, authority or field number throws, so a typo
// stops the server at start rather than losing data quietly). Migration status lands in the
// IG's migration-status extension, which src/auth/sensitive.ts labels on write and redacts.
import type { Extension, Identifier, Patient } from 'fhir/r4.js';
import { cs, sd } from '../../ig/canonical.ts';
import { systemForAuthority } from '../identifiers.ts';
import type { Segment } from './er7.ts';
import type { Hl7Warning } from './errors.ts';
import type { Header } from './header.ts';
import { BCP47, ISO3166, ISO639_2_TO_1, V2 } from './tables.ts';
import file from './z-segments.json' with { type: 'json' };

/** The IG's migration-status codes (terminology/code-systems.ts, migration-status). */
const MIGRATION_STATUS_CODES = new Set([
  'asylum-applicant', 'international-protection', 'refugee', 'subsidiary-protection', 'temporary-protection', 'humanitarian-status', 'rejected-return',
  'irregular', 'stateless', 'idp', 'resettled', 'returnee', 'regular-migrant', 'eu-mobile', 'unknown',
]);
export const MIGRATION_STATUS = sd('migration-status');
export const INTERPRETER_REQUIRED = 'http://hl7.org/fhir/StructureDefinition/patient-interpreterRequired';

export type ZRule =
  | { field: number; target: 'migration-status'; codes: Record<string, string>; grantingCountry?: string }
  | { field: number; target: 'interpreter-required' }
  | { field: number; target: 'language' }
  | { field: number; target: 'identifier'; authority: string; status?: string; grantingCountry?: string };

export interface ZSender {
  facility: string;
  application?: string;
  segments: Record<string, ZRule[]>;
}

/** Checks a mapping file; throws naming the first problem. */
export function loadZMappings(raw: unknown): ZSender[] {
  const fail = (where: string, what: string): never => {
    throw new Error(`HL7 v2 Z-segment mapping, ${where}: ${what}`);
  };
  const senders = (raw as { senders?: unknown })?.senders;
  if (!Array.isArray(senders)) fail('file', 'needs a senders array');
  return (senders as unknown[]).map((s, i) => {
    const sender = s as ZSender;
    if (typeof sender?.facility !== 'string' || !sender.facility) fail(`senders[${i}]`, 'needs a facility (MSH-4)');
    if (sender.application !== undefined && typeof sender.application !== 'string') fail(`senders[${i}]`, 'application must be a string');
    if (!sender.segments || typeof sender.segments !== 'object') fail(`senders[${i}]`, 'needs segments');
    for (const [name, rules] of Object.entries(sender.segments)) {
      const at = `senders[${i}].segments.${name}`;
      if (!/^Z[A-Z0-9]{2}$/.test(name)) fail(at, 'only Z-segments (Z plus two letters or digits) can be mapped here');
      if (!Array.isArray(rules) || !rules.length) fail(at, 'needs a list of rules');
      for (const [j, r] of rules.entries()) {
        const where = `${at}[${j}]`;
        if (!Number.isInteger(r.field) || r.field < 1 || r.field > 999) fail(where, 'field must be a field number (1-999)');
        const country = (r as { grantingCountry?: string }).grantingCountry;
        if (country !== undefined && !/^[A-Z]{2}$/.test(country)) fail(where, 'grantingCountry must be an ISO 3166-1 alpha-2 code');
        if (r.target === 'migration-status') {
          if (!r.codes || typeof r.codes !== 'object' || !Object.keys(r.codes).length) fail(where, 'needs codes (sender code → migration-status code)');
          for (const c of Object.values(r.codes)) if (!MIGRATION_STATUS_CODES.has(c)) fail(where, `'${c}' is not a migration-status code`);
        } else if (r.target === 'identifier') {
          if (typeof r.authority !== 'string' || !r.authority) fail(where, 'needs an authority');
          if (r.status !== undefined && !MIGRATION_STATUS_CODES.has(r.status)) fail(where, `'${r.status}' is not a migration-status code`);
        } else if (r.target !== 'interpreter-required' && r.target !== 'language') {
          fail(where, `unknown target '${(r as { target?: unknown }).target}' (migration-status, interpreter-required, language, identifier)`);
        }
      }
    }
    return sender;
  });
}

const SENDERS = loadZMappings(file);

function senderRules(h: Pick<Header, 'sendingFacility' | 'sendingApplication'>): Record<string, ZRule[]> | undefined {
  return SENDERS.find((s) => s.facility.toUpperCase() === h.sendingFacility.toUpperCase() && (!s.application || s.application.toUpperCase() === h.sendingApplication.toUpperCase()))?.segments;
}

/** Whether this sender has a mapping for segment `name` (otherwise it is reported unmapped). */
export function isMappedZ(h: Pick<Header, 'sendingFacility' | 'sendingApplication'>, name: string): boolean {
  return !!senderRules(h)?.[name];
}

function migrationStatus(code: string, country: string | undefined, source?: Identifier): Extension {
  return {
    url: MIGRATION_STATUS,
    extension: [
      { url: 'status', valueCodeableConcept: { coding: [{ system: cs('migration-status'), code }] } },
      ...(country ? [{ url: 'grantingCountry', valueCodeableConcept: { coding: [{ system: ISO3166, code: country }] } }] : []),
      ...(source ? [{ url: 'sourceDocument', valueIdentifier: source }] : []),
    ],
  };
}

/** Applies the sender's rules for the Z-segments of one patient's group to the Patient. */
export function applyZSegments(h: Header, segments: Segment[], patient: Patient, warnings: Hl7Warning[]): void {
  const rules = senderRules(h);
  if (!rules) return;
  const extension = patient.extension ?? [];
  for (const seg of segments) {
    for (const r of rules[seg.name] ?? []) {
      const value = seg.get(r.field);
      const location = `${seg.name}-${r.field}`;
      if (!value) continue;
      if (r.target === 'migration-status') {
        const code = r.codes[value];
        if (code) extension.push(migrationStatus(code, r.grantingCountry));
        // the value itself is not echoed: it is the person's migration status
        else warnings.push({ location, code: '103', message: `${location}: the code is not in this sender's migration-status mapping and was not stored` });
      } else if (r.target === 'interpreter-required') {
        if (value === 'Y' || value === 'N') extension.push({ url: INTERPRETER_REQUIRED, valueBoolean: value === 'Y' });
        else warnings.push({ location, message: `${location}: interpreter need must be Y or N; not stored` });
      } else if (r.target === 'language') {
        const code = ISO639_2_TO_1[value.toLowerCase()] ?? value.toLowerCase();
        if (/^[a-z]{2,3}$/.test(code)) {
          const communication = patient.communication ?? [];
          if (!communication.some((c) => c.language.coding?.[0]?.code === code)) communication.push({ language: { coding: [{ system: BCP47, code }] } });
          patient.communication = communication;
        } else warnings.push({ location, message: `${location}: not an ISO 639 language code; not stored` });
      } else {
        const found = systemForAuthority({ namespace: r.authority });
        const id: Identifier = { ...(found?.known?.type ? { type: { coding: [{ ...found.known.type }] } } : { type: { coding: [{ system: V2('0203'), code: 'PRC' }] } }), system: found!.system, value };
        if (!(patient.identifier ?? []).some((x) => x.system === id.system && x.value === id.value)) (patient.identifier ??= []).push(id);
        if (r.status) extension.push(migrationStatus(r.status, r.grantingCountry, { system: id.system, value }));
      }
    }
  }
  if (extension.length) patient.extension = extension;
}
