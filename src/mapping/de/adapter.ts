// Germany ↔ migfhir. Beyond the table: ISiK's structured name and street (the family name's
// own-name part and the street name and house number of an address line are written on the way
// out when migfhir holds only the plain strings), and the statutory insurance relationship
// (Coverage) with the KBV special person group: code 09 marks recipients of benefits under
// §§ 4 and 6 AsylbLG. It is kept on the Coverage as the KBV coded it; no migration status is
// inferred from it, because ConceptMap kbv-personengruppe-to-migration-status maps 09 to two
// statuses (applicant, or rejected and tolerated).
import type { Address, Coverage, Extension, HumanName, Identifier, Patient, Resource } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { nationalAdapter, type ResourceMapper } from '../national/bundle.ts';
import { EXT_DE, GKV_COVERAGE_KEY, IKNR, TABLE } from './table.ts';

const KVNR = 'http://fhir.de/sid/gkv/kvid-10';

/** ISiK: a family name carries its own-name part. */
function structuredName(n: HumanName): HumanName {
  if (!n.family || n._family?.extension?.some((e) => e.url === EXT_DE.ownName)) return n;
  return { ...n, _family: { ...(n._family ?? {}), extension: [...(n._family?.extension ?? []), { url: EXT_DE.ownName, valueString: n.family }] } };
}

const STREET = /^(\D.*?)\s+(\d+\s?[a-zA-Z]?(?:\s?[-/]\s?\d+[a-zA-Z]?)?)$/;

/** ISiK Strassenanschrift: street name and house number of each line, when they can be told apart. */
function structuredAddress(a: Address): Address {
  if (!a.line?.length) return a;
  const lineExt = a._line ?? [];
  const _line = a.line.map((line, i) => {
    const own = lineExt[i] ?? null;
    if (own?.extension?.some((e) => e.url === EXT_DE.streetName)) return own;
    const m = STREET.exec(line);
    if (!m) return own;
    return { ...(own ?? {}), extension: [...(own?.extension ?? []), { url: EXT_DE.streetName, valueString: m[1] }, { url: EXT_DE.houseNumber, valueString: m[2] }] as Extension[] };
  });
  return _line.some(Boolean) ? { ...a, _line: _line as Address['_line'] } : a;
}

const coverage: ResourceMapper = {
  patientParam: 'beneficiary',
  toFhir(r, ctx) {
    const c = r as Coverage;
    const ik = c.payor?.find((p) => p.identifier?.system === IKNR)?.identifier?.value;
    if (!ik) throw new FhirError(422, { code: 'required', diagnostics: `${ctx.path}.payor: a statutory insurance relationship names the insurer by its IK (${IKNR})`, expression: [`${ctx.path}.payor`] });
    const patientUrl = ctx.patientUrl(c.beneficiary?.reference);
    if (!patientUrl) throw new FhirError(422, { code: 'invalid', diagnostics: `${ctx.path}.beneficiary: refers to no Patient of this input`, expression: [`${ctx.path}.beneficiary`] });
    const patient = ctx.patientAt(patientUrl);
    const insured = c.beneficiary?.identifier?.value ?? patient.identifier?.find((i) => i.system === KVNR)?.value ?? patient.identifier?.[0]?.value;
    const key: Identifier = { system: GKV_COVERAGE_KEY, value: `${ik}:${insured}` };
    const { id: _id, meta: _meta, text: _text, ...rest } = structuredClone(c);
    void _id;
    void _meta;
    void _text;
    const out: Coverage = { ...rest, identifier: [...(c.identifier ?? []), key], beneficiary: { ...c.beneficiary, reference: patientUrl } };
    if (c.subscriber?.reference) {
      const sub = ctx.patientUrl(c.subscriber.reference);
      if (sub) out.subscriber = { ...c.subscriber, reference: sub };
    }
    return { resource: out, key: [key] };
  },
  fromFhir(r) {
    const { meta: _meta, text: _text, ...rest } = structuredClone(r as Coverage);
    void _meta;
    void _text;
    const out: Coverage = { ...rest, meta: { profile: [TABLE.profiles.Coverage] } };
    const identifier = (out.identifier ?? []).filter((i) => i.system !== GKV_COVERAGE_KEY);
    if (identifier.length) out.identifier = identifier;
    else delete out.identifier;
    return out as Resource;
  },
};

export const germany = nationalAdapter({
  table: TABLE,
  patientFromFhir(_stored: Patient, out: Patient) {
    if (out.name) out.name = out.name.map(structuredName);
    if (out.address) out.address = out.address.map(structuredAddress);
  },
  resources: { Coverage: coverage },
});
