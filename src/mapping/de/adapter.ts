// Germany ↔ migfhir. Beyond the table: what ISiKPatient requires (a patient number, an official
// name with family and given name, gender, birth date or its absent reason, address types that
// match the slices they claim), ISiK's structured name and street (the family name's
// own-name part and the street name and house number of an address line are written on the way
// out when migfhir holds only the plain strings), and the statutory insurance relationship
// (Coverage) with the KBV special person group: code 09 marks recipients of benefits under
// §§ 4 and 6 AsylbLG. It is kept on the Coverage as the KBV coded it; no migration status is
// inferred from it, because ConceptMap kbv-personengruppe-to-migration-status maps 09 to two
// statuses (applicant, or rejected and tolerated).
import type { Address, Coverage, Extension, HumanName, Identifier, Patient, Resource } from 'fhir/r4.js';
import { FhirError } from '../../fhir/errors.ts';
import { nationalAdapter, type ResourceMapper } from '../national/bundle.ts';
import { DATA_ABSENT } from '../national/patient.ts';
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

const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';
const GENDER_AMTLICH = 'http://fhir.de/StructureDefinition/gender-amtlich-de';
const isMR = (i: Identifier) => !!i.type?.coding?.some((c) => c.system === V2_0203 && c.code === 'MR');

/**
 * ISiKPatient identifier[Patientennummer] 1..*: the hospital's patient number (v2-0203 MR). A
 * number a hospital gave (stored with type MR, e.g. from its ADT feed) is written as it is;
 * else migfhir's own record number, its logical id, under profile.json's patientNumber system.
 */
function patientNumber(stored: Patient, out: Patient): void {
  if (out.identifier?.some(isMR)) return;
  const config = TABLE.patientNumber!;
  if (!stored.id) throw new FhirError(422, { code: 'required', diagnostics: 'Patient.identifier: ISiKPatient requires a patient number (Patientennummer); the patient has neither a hospital number nor a record id', expression: ['Patient.identifier'] });
  out.identifier = [...(out.identifier ?? []), { use: 'usual', type: { coding: [{ ...config.type }] }, system: config.system, value: stored.id }];
}

/** ISiK address slices match on type: a type is written only when the slice's required parts are there. */
function addressType(a: Address): Address {
  const complete = !!(a.line?.length && a.city && a.postalCode && a.country && /^[A-Z]{2,3}$/.test(a.country));
  if (!a.type && complete && a.line!.some((_l, i) => a._line?.[i]?.extension?.some((e) => e.url === EXT_DE.streetName))) return { ...a, type: 'both' };
  if ((a.type === 'both' || a.type === 'postal') && !complete) {
    // Strassenanschrift and Postfach require line, city, postalCode and country: without them the
    // address stays unsliced (type left out) rather than failing the slice it would claim
    const { type: _t, ...rest } = a;
    void _t;
    return rest;
  }
  return a;
}

/** ISiK name[Geburtsname] (use maiden) holds a family name only. */
function maidenName(n: HumanName): HumanName {
  if (n.use !== 'maiden' || (n.family && !n.given?.length && !n.prefix?.length)) return n;
  const { use: _u, ...rest } = n;
  void _u;
  return rest;
}

export const germany = nationalAdapter({
  table: TABLE,
  patientFromFhir(stored: Patient, out: Patient) {
    if (out.name) out.name = out.name.map(structuredName).map(maidenName);
    if (out.address) out.address = out.address.map(structuredAddress).map(addressType);
    patientNumber(stored, out);
    // ISiK telecom.system 1.. and telecom.value 1..: a contact point missing either is not exported
    if (out.telecom) out.telecom = out.telecom.filter((c) => c.system && c.value);
    if (!out.telecom?.length) delete out.telecom;
    // ISiK gender 1..: migfhir not knowing it is what 'unknown' says
    if (!out.gender) out.gender = 'unknown';
    if (out.gender === 'other' && !out._gender?.extension?.some((e) => e.url === GENDER_AMTLICH)) {
      // isik-pat-1: 'other' needs the official German differentiation (D divers / X unbestimmt), which migfhir cannot infer
      throw new FhirError(422, { code: 'business-rule', diagnostics: `Patient.gender: ISiKPatient (isik-pat-1) requires the extension ${GENDER_AMTLICH} (D or X) with gender 'other'; the patient has none`, expression: ['Patient.gender'] });
    }
    // ISiK birthDate 1..: an unknown birth date is written as data-absent-reason unknown
    if (!out.birthDate && !out._birthDate) out._birthDate = { extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] };
  },
  resources: { Coverage: coverage },
});
