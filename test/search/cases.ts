// The search case table: FHIR R4 search semantics (https://hl7.org/fhir/R4/search.html) as data,
// independent of any engine or runner (cases.test.ts runs it on SQLite through the REST API; the
// MongoDB engine will run the same table). Expected ids were worked out by hand from the fixtures
// in fixtures.ts (official R4 examples plus the project's own), never by asking the server; the
// comments next to the less obvious cases give the reasoning.
//
// query: the request path relative to the FHIR base plus the query string written decoded; a
// runner splits it at '&' and at each parameter's first '=' and percent-encodes every name and
// value (so values may hold any character except '&'). With `raw`, the text is sent as written.

export interface SearchCase {
  /** the group the case belongs to (for reporting) */
  category: string;
  name: string;
  /** e.g. 'Patient?name=Müller' or '?_type=Patient&_id=x' (system level) */
  query: string;
  /** the matches (search.mode = match) over all pages, as Type/id: an exact set, or a sequence when `ordered` */
  expected: string[];
  ordered?: boolean;
  /** the fixture set to load (fixtures.ts); default 'core' */
  fixtures?: string;
  method?: 'GET' | 'POST';
  /** application/x-www-form-urlencoded body of POST [type]/_search, written decoded like `query` */
  body?: string;
  headers?: Record<string, string>;
  /** send `query` exactly as written (already percent-encoded) */
  raw?: boolean;
  /** HTTP status; default 200. Non-200 cases expect an OperationOutcome and no Bundle. */
  status?: number;
  /** text the error OperationOutcome must contain (e.g. the offending parameter's name) */
  errorMentions?: string;
  /** resources with search.mode = include over all pages (as a set); default: none */
  included?: string[];
  /** parameters the server must report as ignored (an OperationOutcome entry with search.mode =
   * outcome) and leave out of the self link; default: no outcome entry at all */
  ignored?: string[];
  /** Bundle.total of the first page */
  total?: number;
  /** elements each match must have / must not have (subsetting) */
  elements?: { present?: string[]; absent?: string[]; subsetted?: boolean };
}

type Extra = Omit<SearchCase, 'category' | 'name' | 'query' | 'expected'>;
type Row = [name: string, query: string, expected: string[], extra?: Extra];

function group(category: string, rows: Row[]): SearchCase[] {
  return rows.map(([name, query, expected, extra]) => ({ category, name, query, expected, ...extra }));
}

const ref = (type: string) => (...ids: string[]) => ids.map((id) => `${type}/${id}`);
const Pat = ref('Patient');
const Obs = ref('Observation');
const Org = ref('Organization');
const Prac = ref('Practitioner');
const Enc = ref('Encounter');
const Cond = ref('Condition');
const MedRx = ref('MedicationRequest');
const QR = ref('QuestionnaireResponse');
const RA = ref('RiskAssessment');
const VS = ref('ValueSet');
const Loc = ref('Location');
const SR = ref('ServiceRequest');

/** Every Patient of the core set (6 official, 6 of ours). */
export const ALL_PATIENTS = Pat('example', 'f001', 'f201', 'pat1', 'pat2', 'xcda', 'mueller', 'elkina', 'ozdemir', 'nguyen', 'mohammed', 'papadopoulos');
/** Every Observation of the core set (7 official, 7 of ours). */
export const ALL_OBSERVATIONS = Obs(
  'example', 'f001', 'blood-pressure', 'body-temperature', 'f202', 'bmi', 'satO2',
  'obs-weight-mueller', 'obs-height-elkina', 'obs-glucose-ozdemir', 'obs-temp-nguyen', 'obs-hb-mohammed', 'obs-lang-mohammed', 'obs-job-papadopoulos',
);
/** How many resources of each type the core set holds (the runner checks these are unchanged
 * after every case, injection attempts included). */
export const CORE_COUNTS: Record<string, number> = {
  Patient: 12, Observation: 14, Organization: 10, Practitioner: 4, Encounter: 8, Condition: 7, MedicationRequest: 4,
  QuestionnaireResponse: 3, ServiceRequest: 3, RiskAssessment: 3, ValueSet: 3, Location: 1,
};

const STRICT = { prefer: 'handling=strict' };
const UCUM = 'http://unitsofmeasure.org';
const UCUM_SET = 'ucum';
const ROSTER = 'roster';
/** rostova-NN by number */
const rostova = (...n: number[]) => n.map((i) => `Patient/rostova-${String(i).padStart(2, '0')}`);

export const CASES: SearchCase[] = [
  ...group('string', [
    ['umlaut, exact spelling', 'Patient?name=Müller', Pat('mueller')],
    ['umlaut folded away', 'Patient?name=muller', Pat('mueller')],
    ['upper case with umlaut', 'Patient?name=MÜLLER', Pat('mueller')],
    ['prefix of a name', 'Patient?name=Mül', Pat('mueller')],
    ['Cyrillic family, exact spelling', 'Patient?family=Ёлкина', Pat('elkina')],
    ['Cyrillic Ё folds to Е', 'Patient?family=елкина', Pat('elkina')],
    ['Cyrillic prefix in capitals', 'Patient?family=ЁЛК', Pat('elkina')],
    ['Cyrillic given name in capitals', 'Patient?given=АННА', Pat('elkina')],
    ['Turkish Ö folded', 'Patient?family=ozdemir', Pat('ozdemir')],
    ['Turkish ş folded', 'Patient?given=ayse', Pat('ozdemir')],
    ['Vietnamese stacked diacritics folded', 'Patient?family=Nguyen', Pat('nguyen')],
    ['given name Văn as "van"', 'Patient?given=van', Pat('nguyen')],
    // name covers family and given: f001's family "van de Heuvel" starts with "van" as well
    ['name=van matches a family and a given name', 'Patient?name=van', Pat('f001', 'nguyen')],
    ['Arabic family name', 'Patient?name=محمد', Pat('mohammed')],
    // أحمد (alef with hamza above) folds to احمد
    ['Arabic hamza folded away', 'Patient?given=احمد', Pat('mohammed')],
    ['transliterated second name', 'Patient?name=Mohammed', Pat('mohammed')],
    ['HumanName.text is searched', 'Patient?name=أحمد محمد', Pat('mohammed')],
    ['Greek family, exact spelling', 'Patient?family=Παπαδόπουλος', Pat('papadopoulos')],
    // capital sigma lower-cases to σ, the stored final ς folds to σ, the accent on ό is dropped
    ['Greek in capitals without accents', 'Patient?family=ΠΑΠΑΔΟΠΟΥΛΟΣ', Pat('papadopoulos')],
    ['Greek given name, final sigma', 'Patient?given=γιωργος', Pat('papadopoulos')],
    ['family is a prefix match, not a word match', 'Patient?family=heuvel', []],
    ['runs of spaces collapse', 'Patient?family=van  de', Pat('f001')],
    ['given name', 'Patient?given=Peter', Pat('example')],
    ['HumanName.prefix is part of name', 'Patient?name=Drs', Pat('f201')],
    ['HumanName.text is part of name', 'Patient?name=Roel', Pat('f201')],
    [':exact with the stored spelling', 'Patient?name:exact=Müller', Pat('mueller')],
    [':exact is accent sensitive', 'Patient?name:exact=Muller', []],
    [':exact is case sensitive', 'Patient?name:exact=müller', []],
    [':exact is not a prefix match', 'Patient?name:exact=Mül', []],
    [':exact with Vietnamese diacritics', 'Patient?family:exact=Nguyễn', Pat('nguyen')],
    [':exact on a given name', 'Patient?given:exact=D', Pat('pat2')],
    [':contains in the middle', 'Patient?name:contains=ller', Pat('mueller')],
    [':contains is case-insensitive', 'Patient?name:contains=DEMIR', Pat('ozdemir')],
    [':contains is accent-insensitive', 'Patient?name:contains=uye', Pat('nguyen')],
    [':contains on a Greek name', 'Patient?family:contains=δοπουλ', Pat('papadopoulos')],
    ['OR with commas', 'Patient?name=Müller,Özdemir', Pat('mueller', 'ozdemir')],
    ['OR across scripts', 'Patient?family=Ёлкина,Nguyễn,محمد', Pat('elkina', 'nguyen', 'mohammed')],
    ['AND of two parameters', 'Patient?family=Donald&given=D', Pat('pat1', 'pat2')],
    ['AND of a repeated parameter', 'Patient?given=Peter&given=Jam', Pat('example')],
    ['AND of a repeated parameter, one fails', 'Patient?given=Peter&given=Duck', []],
    ['address-city with umlaut folded', 'Patient?address-city=MUNCHEN', Pat('mueller')],
    ['address-city', 'Patient?address-city=Amsterdam', Pat('f001', 'f201')],
    ['address-country', 'Patient?address-country=IT', Pat('ozdemir', 'nguyen')],
    ['address covers district', 'Patient?address=Rainbow', Pat('example')],
    ['address covers postal code', 'Patient?address-postalcode=80331', Pat('mueller')],
    ['address in Greek', 'Patient?address=αθηνα', Pat('papadopoulos')],
    ['Organization name with ä folded', 'Organization?name=stadtisches', Org('klinikum')],
    ['Organization name covers alias', 'Organization?name=HL7', Org('hl7')],
    ['Organization name :contains', 'Organization?name:contains=university', Org('f001', 'f201')],
    ['Practitioner name with hyphen', 'Practitioner?name=al-khatib', Prac('alkhatib')],
    ['Practitioner family with a space', 'Practitioner?family=van den', Prac('f001')],
    ['string parameter on a valueString', 'Observation?value-string=fisherman', Obs('obs-job-papadopoulos')],
    ['string parameter on CodeableConcept.text', 'Observation?value-string=العربية', Obs('obs-lang-mohammed')],
    ['string parameter on onsetString', 'Condition?onset-info=since the', Cond('cond-ptsd-mohammed')],
    ['no match', 'Patient?name=Zzyzx', []],
  ]),

  ...group('token', [
    ['code', 'Patient?gender=female', Pat('elkina', 'ozdemir')],
    ['OR of codes', 'Patient?gender=male,female', ALL_PATIENTS.filter((p) => p !== 'Patient/pat2')],
    // :not also matches resources without the element; every Patient here has a gender
    [':not', 'Patient?gender:not=male', Pat('pat2', 'elkina', 'ozdemir')],
    ['system|code', 'Patient?identifier=http://hl7.it/sid/codiceFiscale|MLLJRG85A01Z112X', Pat('mueller')],
    ['system| (any code in the system)', 'Patient?identifier=http://hl7.it/sid/codiceFiscale|', Pat('mueller', 'ozdemir')],
    ['system| with an OID system', 'Patient?identifier=urn:oid:2.16.840.1.113883.3.4424.1.1.616|', Pat('mueller', 'elkina', 'nguyen', 'mohammed')],
    ['OID system|code', 'Patient?identifier=urn:oid:2.16.840.1.113883.3.4424.1.1.616|SY-0001', Pat('mohammed')],
    ['code in any system', 'Patient?identifier=12345', Pat('example', 'xcda')],
    ['system|code picks one system', 'Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|12345', Pat('example')],
    ['|code needs a value without system', 'Patient?identifier=|12345', []],
    ['|code on an identifier without system', 'Condition?identifier=|12345', Cond('f201')],
    ['|code with an underscore in the value', 'Encounter?identifier=|Encounter_Roel_20130404', Enc('f201')],
    ['codes are case-sensitive', 'Patient?identifier=http://hl7.it/sid/codiceFiscale|mlljrg85a01z112x', []],
    ['two identifiers in one system', 'Patient?identifier=urn:oid:2.16.840.1.113883.2.4.6.3|', Pat('f001', 'f201')],
    [':of-type', 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|12345', Pat('example', 'xcda')],
    [':of-type passport', 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|PPN|SY-0001', Pat('mohammed')],
    [':of-type with the wrong type', 'Patient?identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|SY-0001', []],
    [':text on Identifier.type.text', 'Patient?identifier:text=passport', Pat('mohammed')],
    [':text on Identifier.type.text (official example)', 'Patient?identifier:text=BSN', Pat('f201')],
    ['system|code on a CodeableConcept', 'Observation?code=http://loinc.org|8310-5', Obs('body-temperature', 'f202', 'obs-temp-nguyen')],
    ['OR of codes without system', 'Observation?code=8310-5,29463-7', Obs('body-temperature', 'f202', 'obs-temp-nguyen', 'example', 'obs-weight-mueller')],
    ['AND of two codings of one concept', 'Observation?code=http://loinc.org|8310-5&code=http://acme.lab|BT', Obs('f202')],
    ['code in the wrong system', 'Observation?code=http://snomed.info/sct|8310-5', []],
    [':text on Coding.display', 'Observation?code:text=body temp', Obs('body-temperature', 'f202', 'obs-temp-nguyen')],
    // Condition/example: coding display "Burn of ear", CodeableConcept.text "Burnt Ear"
    [':text on CodeableConcept.text next to a display', 'Condition?code:text=burnt', Cond('example')],
    [':text on a German CodeableConcept.text', 'Condition?code:text=lungentuberkulose', Cond('cond-tb-mueller')],
    ['category', 'Observation?category=vital-signs', Obs('example', 'blood-pressure', 'body-temperature', 'f202', 'bmi', 'satO2', 'obs-weight-mueller', 'obs-height-elkina', 'obs-temp-nguyen')],
    [':not on status', 'Observation?status:not=final', Obs('f202', 'obs-temp-nguyen')],
    [':not with system|code', 'Observation?code:not=http://loinc.org|8310-5', ALL_OBSERVATIONS.filter((o) => !Obs('body-temperature', 'f202', 'obs-temp-nguyen').includes(o))],
    // not (male or female)
    [':not with OR', 'Patient?gender:not=male,female', Pat('pat2')],
    ['codes are case-sensitive (gender)', 'Patient?gender=FEMALE', []],
    // deceased is "deceased.exists() and deceased != false": false when absent
    ['boolean computed by the expression', 'Patient?deceased=false', ALL_PATIENTS.filter((p) => p !== 'Patient/nguyen')],
    ['Address.use', 'Patient?address-use=home', Pat('example', 'f001', 'f201')],
    ['Organization type', 'Organization?type=prov', Org('f001', 'f201')],
    ['boolean', 'Patient?active=false', Pat('ozdemir')],
    [':missing=true on a boolean', 'Patient?active:missing=true', Pat('nguyen')],
    [':missing=true on identifier', 'Patient?identifier:missing=true', Pat('papadopoulos')],
    ['ContactPoint email', 'Patient?email=juergen.mueller@example.org', Pat('mueller')],
    ['ContactPoint telecom', 'Patient?telecom=0648352638', Pat('f001')],
    ['ContactPoint phone with + and spaces', 'Patient?phone=+49 89 1234567', Pat('mueller')],
    ['language system|code', 'Patient?language=urn:ietf:bcp:47|nl', Pat('f001')],
    ['language OR', 'Patient?language=uk,ru', Pat('elkina')],
    ['deceased from deceasedDateTime', 'Patient?deceased=true', Pat('nguyen')],
    ['component code via combo-code', 'Observation?combo-code=8480-6', Obs('blood-pressure')],
    ['value-concept', 'Observation?value-concept=urn:ietf:bcp:47|ar', Obs('obs-lang-mohammed')],
    ['value-concept :text', 'Observation?value-concept:text=arabic', Obs('obs-lang-mohammed')],
    ['Coding class', 'Encounter?class=AMB', Enc('f001', 'f201', 'enc-mueller')],
    ['Coding class with system', 'Encounter?class=http://terminology.hl7.org/CodeSystem/v3-ActCode|EMER', Enc('enc-ozdemir', 'enc-nguyen')],
    ['status', 'Encounter?status=finished', Enc('f001', 'f201', 'home', 'enc-mueller', 'enc-ozdemir', 'enc-nguyen')],
    ['clinical-status', 'Condition?clinical-status=resolved', Cond('f201', 'cond-hepb-nguyen')],
    ['_id', 'Patient?_id=mueller', Pat('mueller')],
    ['_id OR', 'Patient?_id=mueller,elkina,nobody', Pat('mueller', 'elkina')],
    ['_id :not', 'Patient?_id:not=mueller', ALL_PATIENTS.filter((p) => p !== 'Patient/mueller')],
    ['_id with dots', 'Organization?_id=2.16.840.1.113883.19.5', Org('2.16.840.1.113883.19.5')],
  ]),

  ...group('escaping', [
    ['\\| inside a code without system', 'Organization?identifier=A\\|B', Org('escape-corp')],
    ['\\| inside a code with system', 'Organization?identifier=urn:example:esc|A\\|B', Org('escape-corp')],
    ['unescaped | splits system and code', 'Organization?identifier=A|B', []],
    ['\\$ in a token', 'Organization?identifier=X\\$Y', Org('escape-corp')],
    ['$ needs no escape outside composites', 'Organization?identifier=X$Y', Org('escape-corp')],
    ['\\\\ is one backslash', 'Organization?identifier=C\\\\D', Org('escape-corp')],
    ['\\, keeps the comma in the value', 'Organization?identifier=E\\,F', Org('escape-corp')],
    ['unescaped , is OR', 'Organization?identifier=E,F', []],
    ['\\, in a string', 'Organization?name=Ärzte\\, Hilfe', Org('escape-corp')],
    ['\\\\ in a string', 'Organization?name=back\\\\slash', Org('escape-corp')],
  ]),

  ...group('date', [
    // Patient birth dates: example 1974-12-25, f001 1944-11-17, f201 1960-03-13, xcda 1932-09-24,
    // mueller 1985, elkina 1990-07, ozdemir 1978-03-15, nguyen 2000-02-29, papadopoulos 1969-11-30;
    // pat1, pat2 and mohammed have none.
    ['year equals a year-only date', 'Patient?birthdate=1985', Pat('mueller')],
    ['a year contains a year-month date', 'Patient?birthdate=1990', Pat('elkina')],
    ['a month does not contain a year', 'Patient?birthdate=1985-06', []],
    ['a day does not contain a month', 'Patient?birthdate=1990-07-15', []],
    ['full date', 'Patient?birthdate=1974-12-25', Pat('example')],
    ['eq prefix', 'Patient?birthdate=eq1978-03-15', Pat('ozdemir')],
    ['leap day', 'Patient?birthdate=2000-02-29', Pat('nguyen')],
    ['ge includes the year itself', 'Patient?birthdate=ge1985', Pat('mueller', 'elkina', 'nguyen')],
    ['gt excludes a date that ends with the year', 'Patient?birthdate=gt1985', Pat('elkina', 'nguyen')],
    // 1985 ends after June 1985: the year-only date overlaps the range above the search value
    ['gt overlaps a partial date', 'Patient?birthdate=gt1985-06', Pat('mueller', 'elkina', 'nguyen')],
    ['lt', 'Patient?birthdate=lt1960-03-13', Pat('f001', 'xcda')],
    ['le includes the day', 'Patient?birthdate=le1960-03-13', Pat('f001', 'xcda', 'f201')],
    ['lt overlaps a partial date', 'Patient?birthdate=lt1985-06', Pat('example', 'f001', 'f201', 'xcda', 'ozdemir', 'papadopoulos', 'mueller')],
    ['sa', 'Patient?birthdate=sa1985', Pat('elkina', 'nguyen')],
    ['eb', 'Patient?birthdate=eb1985', Pat('example', 'f001', 'f201', 'xcda', 'ozdemir', 'papadopoulos')],
    ['ne leaves out resources without a value', 'Patient?birthdate=ne1985', Pat('example', 'f001', 'f201', 'xcda', 'elkina', 'ozdemir', 'nguyen', 'papadopoulos')],
    // ap: within 10% of the distance to now (about four years around 1985 for decades to come)
    ['ap', 'Patient?birthdate=ap1985-01-01', Pat('mueller')],
    ['range with two parameters', 'Patient?birthdate=ge1960&birthdate=lt1975', Pat('f201', 'papadopoulos', 'example')],
    ['OR of dates', 'Patient?birthdate=1932,1944', Pat('xcda', 'f001')],
    [':missing=true', 'Patient?birthdate:missing=true', Pat('pat1', 'pat2', 'mohammed')],
    [':missing=false', 'Patient?birthdate:missing=false', Pat('example', 'f001', 'f201', 'xcda', 'mueller', 'elkina', 'ozdemir', 'nguyen', 'papadopoulos')],
    // Observation effective: weight-mueller 2023-05-10T06:30:00Z, height-elkina Period 2023-01-01..2023-01-31,
    // glucose-ozdemir Period from 2022-06-01T10:00Z (open), f001 Period from 2013-04-02T08:30:10Z (open),
    // temp-nguyen 2021-06-01T04:30:00Z (written -05:00), job-papadopoulos 2021, hb 2024-01-15T12:00Z,
    // lang 2024-01-15, example 2016-03-28, blood-pressure 2012-09-17, satO2 2014-12-05T08:30:10Z,
    // body-temperature and bmi 1999-07-02; f202 has none.
    ['a year contains a closed Period, not an open one', 'Observation?date=2023', Obs('obs-weight-mueller', 'obs-height-elkina')],
    ['time zones: the UTC day of a -05:00 dateTime', 'Observation?date=2021-06-01', Obs('obs-temp-nguyen')],
    ['time zones: not the local day', 'Observation?date=2021-05-31', []],
    ['dateTime with offset, to the second', 'Observation?date=2023-05-10T08:30:00+02:00', Obs('obs-weight-mueller')],
    ['the same instant in UTC', 'Observation?date=2023-05-10T06:30:00Z', Obs('obs-weight-mueller')],
    ['minute precision contains the second', 'Observation?date=2023-05-10T06:30Z', Obs('obs-weight-mueller')],
    ['another instant', 'Observation?date=2023-05-10T08:30:00Z', []],
    ['ge with open Periods', 'Observation?date=ge2023-01-15', Obs('obs-height-elkina', 'obs-weight-mueller', 'obs-glucose-ozdemir', 'f001', 'obs-hb-mohammed', 'obs-lang-mohammed')],
    ['gt far ahead finds only open-ended Periods', 'Observation?date=gt2024', Obs('obs-glucose-ozdemir', 'f001')],
    ['lt on dateTimes and Periods', 'Observation?date=lt2000', Obs('body-temperature', 'bmi')],
    ['sa on dateTimes and Periods', 'Observation?date=sa2022-01-01', Obs('obs-glucose-ozdemir', 'obs-height-elkina', 'obs-weight-mueller', 'obs-hb-mohammed', 'obs-lang-mohammed')],
    ['eb on dateTimes and Periods', 'Observation?date=eb2013-01-01', Obs('blood-pressure', 'body-temperature', 'bmi')],
    ['Periods overlapping a window', 'Observation?date=ge2023-01-10&date=le2023-01-20', Obs('obs-height-elkina', 'obs-glucose-ozdemir', 'f001')],
    // Encounter periods: enc-mueller 2023-05-10T06:00Z..2023-05-12T14:00Z, enc-elkina from 2023-06-01T06:00Z (open),
    // enc-ozdemir until 2022-12-31T22:59:59Z (open start), enc-nguyen 2021-05-30T22:00Z..2021-06-01T03:00Z,
    // home 2015-01-17T06:00Z..06:30Z; example, f001, f201 have none.
    ['a day inside a 3-day Period does not contain it', 'Encounter?date=2023-05-11', []],
    ['a month contains the Period', 'Encounter?date=2023-05', Enc('enc-mueller')],
    ['Periods overlapping a day', 'Encounter?date=ge2023-05-11&date=le2023-05-11', Enc('enc-mueller')],
    ['open end overlaps the future', 'Encounter?date=gt2024-01-01', Enc('enc-elkina')],
    ['open start overlaps the past', 'Encounter?date=lt2000', Enc('enc-ozdemir')],
    ['le with a Period that starts late on the day in UTC', 'Encounter?date=le2021-05-30', Enc('enc-ozdemir', 'home')],
    ['Period :missing', 'Encounter?date:missing=true', Enc('example', 'f001', 'f201')],
    // Condition onset: tb 2022, htn from 2019-01 (open), hepb 2010-02-28T17:00Z (written 2010-03-01T00:00+07:00),
    // example 2012-05-24, stroke 2010-07-18, f201 2013-04-02; ptsd has an onsetString.
    ['UTC day of a +07:00 midnight', 'Condition?onset-date=2010-02-28', Cond('cond-hepb-nguyen')],
    ['not the local day', 'Condition?onset-date=2010-03-01', []],
    ['year-only onset', 'Condition?onset-date=2022', Cond('cond-tb-mueller')],
    ['open onsetPeriod', 'Condition?onset-date=gt2023', Cond('cond-htn-elkina')],
    ['between', 'Condition?onset-date=ge2010-07-18&onset-date=lt2013', Cond('stroke', 'example')],
    ['abatement year-month', 'Condition?abatement-date=2015', Cond('cond-hepb-nguyen')],
    ['recorded-date with offset', 'Condition?recorded-date=2023-06-01', Cond('cond-htn-elkina')],
    ['authoredon with offset', 'MedicationRequest?authoredon=2023-05-11', MedRx('medrx-mueller')],
    ['authoredon year contains a month', 'MedicationRequest?authoredon=2012', MedRx('medrx-nguyen')],
    ['authoredon day does not contain a month', 'MedicationRequest?authoredon=2012-04-15', []],
    ['authoredon ge overlaps a month', 'MedicationRequest?authoredon=ge2012-04-15', MedRx('medrx-nguyen', 'medrx0302', 'medrx0310', 'medrx-mueller')],
    // QuestionnaireResponse/f201 authored 2013-06-18T00:00:00+01:00 = 2013-06-17T23:00Z
    ['authored: the UTC day', 'QuestionnaireResponse?authored=2013-06-17', QR('f201')],
    ['authored: not the local day', 'QuestionnaireResponse?authored=2013-06-18', []],
    ['death-date from deceasedDateTime', 'Patient?death-date=2021-06-01', Pat('nguyen')],
    ['_lastUpdated in the past', 'Patient?_lastUpdated=gt2000-01-01&_id=mueller,elkina', Pat('mueller', 'elkina')],
    ['_lastUpdated before any write', 'Patient?_lastUpdated=lt2000-01-01', []],
    ['_lastUpdated eq a past year', 'Patient?_lastUpdated=2000', []],
  ]),

  ...group('number', [
    // RiskAssessment probabilities: ra-mueller 0.35 and 0.6, ra-elkina 0.08, ra-nguyen 0.5
    ['eq uses the precision of the value: 0.6 is [0.55, 0.65)', 'RiskAssessment?probability=0.6', RA('ra-mueller')],
    ['0.5', 'RiskAssessment?probability=0.5', RA('ra-nguyen')],
    ['0.50 is [0.495, 0.505)', 'RiskAssessment?probability=0.50', RA('ra-nguyen')],
    // the low end is inclusive: 0.35 is in [0.35, 0.45)
    ['0.4 is [0.35, 0.45), low end included', 'RiskAssessment?probability=0.4', RA('ra-mueller')],
    ['exponent: 8e-2 is [0.075, 0.085)', 'RiskAssessment?probability=8e-2', RA('ra-elkina')],
    ['gt', 'RiskAssessment?probability=gt0.5', RA('ra-mueller')],
    ['ge', 'RiskAssessment?probability=ge0.5', RA('ra-mueller', 'ra-nguyen')],
    ['lt', 'RiskAssessment?probability=lt0.1', RA('ra-elkina')],
    ['le', 'RiskAssessment?probability=le0.35', RA('ra-mueller', 'ra-elkina')],
    // a resource matches when any of its values does: ra-mueller also has 0.35
    ['ne, any value', 'RiskAssessment?probability=ne0.6', RA('ra-mueller', 'ra-elkina', 'ra-nguyen')],
    ['sa', 'RiskAssessment?probability=sa0.5', RA('ra-mueller')],
    ['eb', 'RiskAssessment?probability=eb0.1', RA('ra-elkina')],
    ['ap is ±10%', 'RiskAssessment?probability=ap0.5', RA('ra-nguyen')],
    ['OR', 'RiskAssessment?probability=0.35,0.08', RA('ra-mueller', 'ra-elkina')],
    ['AND of a range', 'RiskAssessment?probability=gt0.3&probability=lt0.4', RA('ra-mueller')],
    ['AND, each met by a different value', 'RiskAssessment?probability=gt0.5&probability=lt0.4', RA('ra-mueller')],
    ['no match', 'RiskAssessment?probability=0.9', []],
    [':missing=false', 'RiskAssessment?probability:missing=false', RA('ra-mueller', 'ra-elkina', 'ra-nguyen')],
  ]),

  ...group('quantity', [
    // Observation values: example 185 [lb_av], f001 6.3 mmol/L (unit mmol/l), body-temperature 36.5 Cel,
    // f202 39 Cel (unit "degrees C"), bmi 16.2 kg/m2, satO2 95 %, weight-mueller 72.5 kg, height-elkina 165 cm,
    // glucose-ozdemir 5.4 mmol/L (unit mmol/l), temp-nguyen 38.5 Cel, hb-mohammed 100 g/L
    ['number only', 'Observation?value-quantity=72.5', Obs('obs-weight-mueller')],
    ['number|system|code', 'Observation?value-quantity=72.5|http://unitsofmeasure.org|kg', Obs('obs-weight-mueller')],
    ['number||code', 'Observation?value-quantity=72.5||kg', Obs('obs-weight-mueller')],
    ['number|system|', 'Observation?value-quantity=72.5|http://unitsofmeasure.org|', Obs('obs-weight-mueller')],
    ['wrong code', 'Observation?value-quantity=72.5||g', []],
    ['wrong system', 'Observation?value-quantity=72.5|http://snomed.info/sct|kg', []],
    ['code with brackets', 'Observation?value-quantity=185|http://unitsofmeasure.org|[lb_av]', Obs('example')],
    // number||unit matches Quantity.code or Quantity.unit
    ['||unit matches the human unit', 'Observation?value-quantity=39||degrees C', Obs('f202')],
    ['||unit matches the unit when the code differs in case', 'Observation?value-quantity=6.3||mmol/l', Obs('f001')],
    ['100 is [99.5, 100.5)', 'Observation?value-quantity=100', Obs('obs-hb-mohammed')],
    ['100.0 is [99.95, 100.05)', 'Observation?value-quantity=100.0', Obs('obs-hb-mohammed')],
    ['1e2 is [50, 150)', 'Observation?value-quantity=1e2', Obs('obs-weight-mueller', 'satO2', 'obs-hb-mohammed')],
    ['lt', 'Observation?value-quantity=lt10', Obs('f001', 'obs-glucose-ozdemir')],
    ['gt with code', 'Observation?value-quantity=gt38||Cel', Obs('f202', 'obs-temp-nguyen')],
    ['ge with code', 'Observation?value-quantity=ge39||Cel', Obs('f202')],
    ['le with code', 'Observation?value-quantity=le36.5||Cel', Obs('body-temperature')],
    // 39 stands for [38.5, 39.5), which holds 38.5: only 36.5 Cel is "not equal"
    ['ne with code', 'Observation?value-quantity=ne39||Cel', Obs('body-temperature')],
    ['ap is ±10%', 'Observation?value-quantity=ap100', Obs('satO2', 'obs-hb-mohammed')],
    ['sa', 'Observation?value-quantity=sa100', Obs('example', 'obs-height-elkina')],
    ['eb', 'Observation?value-quantity=eb6', Obs('obs-glucose-ozdemir')],
    ['OR with different units', 'Observation?value-quantity=gt6||mmol/L,gt100||cm', Obs('f001', 'obs-height-elkina')],
    ['component value', 'Observation?component-value-quantity=107', Obs('blood-pressure')],
    ['combo value covers components', 'Observation?combo-value-quantity=60||mm[Hg]', Obs('blood-pressure')],
    ['Duration on Encounter.length', 'Encounter?length=140', Enc('f001')],
    ['Duration with prefix and code', 'Encounter?length=gt100||min', Enc('f001')],
    ['Duration in other units without a system is not converted', 'Encounter?length=2.3||h', []],
    [':missing=true', 'Observation?value-quantity:missing=true', Obs('blood-pressure', 'obs-lang-mohammed', 'obs-job-papadopoulos')],
  ]),

  ...group('reference', [
    ['Type/id', 'Observation?subject=Patient/mueller', Obs('obs-weight-mueller')],
    ['Type/id with several matches', 'Observation?subject=Patient/example', Obs('example', 'blood-pressure', 'body-temperature', 'bmi', 'satO2')],
    ['id alone', 'Observation?subject=mueller', Obs('obs-weight-mueller')],
    [':Type modifier', 'Observation?subject:Patient=example', Obs('example', 'blood-pressure', 'body-temperature', 'bmi', 'satO2')],
    [':Type of another target', 'Observation?subject:Group=example', []],
    ['absolute URL on this server', 'Observation?subject=http://test.local/fhir/Patient/mueller', Obs('obs-weight-mueller')],
    ['absolute URL on another server', 'Observation?subject=http://elsewhere.example/fhir/Patient/mueller', []],
    ['versioned reference matches the resource', 'Observation?subject=Patient/example/_history/1', Obs('example', 'blood-pressure', 'body-temperature', 'bmi', 'satO2')],
    ['OR', 'Observation?subject=Patient/mueller,Patient/elkina', Obs('obs-weight-mueller', 'obs-height-elkina')],
    ['AND of two subjects', 'Observation?subject=Patient/mueller&subject=Patient/elkina', []],
    ['patient parameter', 'Observation?patient=f201', Obs('f202')],
    ['id with dots, single target type', 'Patient?organization=2.16.840.1.113883.19.5', Pat('xcda')],
    ['id alone, single target type', 'Patient?organization=1', Pat('example', 'pat1', 'pat2')],
    ['link', 'Patient?link=Patient/pat2', Pat('pat1')],
    ['general-practitioner', 'Patient?general-practitioner=Practitioner/alkhatib', Pat('mueller')],
    ['partof', 'Organization?partof=Organization/unhcr-it', Org('lampedusa')],
    ['Location organization', 'Location?organization=lampedusa', Loc('hotspot')],
    ['encounter by id', 'Observation?encounter=enc-mueller', Obs('obs-weight-mueller')],
    ['performer with :Type', 'Observation?performer:Practitioner=f201', Obs('f202')],
    ['service-provider', 'Encounter?service-provider=Organization/klinikum', Enc('enc-mueller')],
    ['canonical without version', 'QuestionnaireResponse?questionnaire=http://example.org/fhir/Questionnaire/migrant-intake', QR('qr-elkina', 'qr-mohammed')],
    ['canonical with version', 'QuestionnaireResponse?questionnaire=http://example.org/fhir/Questionnaire/migrant-intake|2.0', QR('qr-mohammed')],
    ['canonical with an unknown version', 'QuestionnaireResponse?questionnaire=http://example.org/fhir/Questionnaire/migrant-intake|3.0', []],
    ['source', 'QuestionnaireResponse?source=Patient/mohammed', QR('qr-mohammed')],
    [':identifier system|value', 'MedicationRequest?intended-performer:identifier=http://example.org/fhir/sid/pharmacy|PH-42', MedRx('medrx-nguyen')],
    [':identifier value', 'MedicationRequest?intended-performer:identifier=PH-42', MedRx('medrx-nguyen')],
    [':identifier (official example)', 'Observation?based-on:identifier=https://acme.org/identifiers|1234', Obs('blood-pressure')],
    [':missing=false', 'Observation?encounter:missing=false', Obs('example', 'obs-weight-mueller', 'obs-height-elkina', 'obs-temp-nguyen')],
    [':missing=true', 'Patient?organization:missing=true', Pat('nguyen', 'papadopoulos')],
  ]),

  ...group('uri', [
    ['url equals', 'ValueSet?url=http://example.org/fhir/ValueSet/migrant-languages', VS('vs-lang')],
    ['url is case-sensitive', 'ValueSet?url=http://example.org/fhir/ValueSet/MIGRANT-languages', []],
    ['urn:oid url', 'ValueSet?url=urn:oid:2.16.840.1.113883.3.4424.1.1.999', VS('vs-triage')],
    [':below', 'ValueSet?url:below=http://example.org/fhir/ValueSet/', VS('vs-lang', 'vs-arabic')],
    [':below a path', 'ValueSet?url:below=http://example.org/fhir/ValueSet/migrant-languages', VS('vs-lang', 'vs-arabic')],
    [':above', 'ValueSet?url:above=http://example.org/fhir/ValueSet/migrant-languages/arabic-dialects/levantine', VS('vs-lang', 'vs-arabic')],
    [':above the url itself', 'ValueSet?url:above=http://example.org/fhir/ValueSet/migrant-languages', VS('vs-lang')],
    ['reference (compose.include.system)', 'ValueSet?reference=urn:ietf:bcp:47', VS('vs-lang', 'vs-arabic')],
    ['OR', 'ValueSet?url=urn:oid:2.16.840.1.113883.3.4424.1.1.999,http://example.org/fhir/ValueSet/migrant-languages', VS('vs-triage', 'vs-lang')],
    ['_profile', 'Observation?_profile=http://hl7.org/fhir/StructureDefinition/vitalsigns', Obs('blood-pressure', 'body-temperature', 'bmi', 'satO2')],
    ['_profile of our patients', 'Patient?_profile=http://example.org/fhir/StructureDefinition/migrant-patient', Pat('mueller', 'elkina', 'ozdemir', 'nguyen', 'mohammed', 'papadopoulos')],
    ['_source with a fragment', 'Patient?_source=http://example.org/fhir/source/lampedusa#intake-7', Pat('mueller')],
    ['_source :below', 'Patient?_source:below=http://example.org/fhir/source/lampedusa', Pat('mueller', 'elkina')],
    ['_source :missing=false', 'Patient?_source:missing=false', Pat('mueller', 'elkina', 'ozdemir')],
  ]),

  ...group('meta', [
    ['_tag system|code', 'Patient?_tag=http://example.org/fhir/tags|migrant-intake', Pat('mueller', 'elkina', 'mohammed')],
    ['_tag code', 'Patient?_tag=follow-up', Pat('ozdemir')],
    ['_tag :not', 'Patient?_tag:not=http://example.org/fhir/tags|migrant-intake', Pat('example', 'f001', 'f201', 'pat1', 'pat2', 'xcda', 'ozdemir', 'nguyen', 'papadopoulos')],
    ['_tag :missing', 'Patient?_tag:missing=true', Pat('example', 'f001', 'f201', 'pat1', 'pat2', 'xcda', 'nguyen', 'papadopoulos')],
    ['_security', 'Patient?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R', Pat('mueller', 'mohammed')],
    ['_security code', 'Patient?_security=V', Pat('ozdemir')],
    ['_tag at system level', '?_tag=http://example.org/fhir/tags|migrant-intake', Pat('mueller', 'elkina', 'mohammed')],
  ]),

  ...group('composite', [
    ['code$value-quantity', 'Observation?code-value-quantity=http://loinc.org|29463-7$gt70', Obs('example', 'obs-weight-mueller')],
    ['code$value-quantity, narrower', 'Observation?code-value-quantity=http://loinc.org|29463-7$lt100', Obs('obs-weight-mueller')],
    ['code$number|system|code', 'Observation?code-value-quantity=29463-7$72.5|http://unitsofmeasure.org|kg', Obs('obs-weight-mueller')],
    ['component code$value', 'Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100', Obs('blood-pressure')],
    // the diastolic component is 60; 107 belongs to the systolic one: components must not mix
    ['components are correlated', 'Observation?component-code-value-quantity=http://loinc.org|8462-4$gt100', []],
    ['combo over code and components', 'Observation?combo-code-value-quantity=http://loinc.org|8310-5$gt38', Obs('f202', 'obs-temp-nguyen')],
    ['code$value-concept', 'Observation?code-value-concept=http://loinc.org|54899-0$urn:ietf:bcp:47|ar', Obs('obs-lang-mohammed')],
    ['OR of tuples', 'Observation?component-code-value-quantity=http://loinc.org|8480-6$gt200,http://loinc.org|8462-4$lt70', Obs('blood-pressure')],
    ['AND of tuples, each met by another component', 'Observation?component-code-value-quantity=http://loinc.org|8480-6$gt100&component-code-value-quantity=http://loinc.org|8462-4$lt70', Obs('blood-pressure')],
    ['missing $ is an error', 'Observation?code-value-quantity=29463-7', [], { status: 400 }],
  ]),

  ...group('terminology', [
    // vs-lang includes all of urn:ietf:bcp:47: f001 nl, f201 nl-NL, mueller de, elkina uk and ru
    [':in a value set', 'Patient?language:in=http://example.org/fhir/ValueSet/migrant-languages', Pat('f001', 'f201', 'mueller', 'elkina')],
    [':not-in a value set', 'Patient?language:not-in=http://example.org/fhir/ValueSet/migrant-languages', Pat('example', 'pat1', 'pat2', 'xcda', 'ozdemir', 'nguyen', 'mohammed', 'papadopoulos')],
    // 56717001 Tuberculosis is-a 40733004 Infectious disease
    // SNOMED CT's hierarchy is licensed content this server does not ship: rather than answer
    // :below/:above with the exact code alone (silently incomplete), it refuses them
    // (:below on held code systems: test/operations/terminology.test.ts)
    [':below on SNOMED CT, whose hierarchy is not held', 'Condition?code:below=http://snomed.info/sct|40733004', [], { status: 400, errorMentions: 'snomed' }],
    [':above on SNOMED CT, whose hierarchy is not held', 'Condition?code:above=http://snomed.info/sct|40733004', [], { status: 400, errorMentions: 'snomed' }],
    // 72500 g is [72499.5, 72500.5) g; 72.5 kg is 72500 g
    ['UCUM canonical units', 'Observation?value-quantity=72500|http://unitsofmeasure.org|g', Obs('obs-weight-mueller')],
    // 2.3 h is [2.25, 2.35) h = [8100, 8460) s; 140 min is 8400 s. Without the system (the quantity
    // group's 'Duration in other units without a system is not converted') the code is compared as written.
    ['UCUM canonical units: a Duration in hours finds minutes', 'Encounter?length=2.3|http://unitsofmeasure.org|h', Enc('f001')],
  ]),

  // UCUM canonical form (search.html#quantity), fixtures-ucum.ts: weights u-weight-kg 72.5 kg
  // (72500 g), -g 68000 g, -lb 160 [lb_av] (72574.78 g), -local 72.5 kg in a non-UCUM system,
  // -nosystem 72500 g without a system, -badcode 72.5 'kilogram'; glucose -mgdl 110 mg/dL and -gl
  // 1.1 g/L (both 1100 g/m3), -mmol 6.1 mmol/L; spo2 97 %; temp -cel 39 Cel, -degf 102.2 [degF],
  // -k 312.15 K; score 7 {score}; iu 5 m[IU]/L; bp-mmhg 130/85 mm[Hg], bp-kpa 16/10 kPa
  ...group('UCUM canonical', [
    ['g finds kg', `Observation?value-quantity=72500|${UCUM}|g`, Obs('u-weight-kg'), { fixtures: UCUM_SET }],
    ['kg finds g', `Observation?value-quantity=68|${UCUM}|kg`, Obs('u-weight-g'), { fixtures: UCUM_SET }],
    // 73 kg is [72.5, 73.5) kg: 72.5 kg (the low end is in) and 160 [lb_av]
    ['the precision range is scaled', `Observation?value-quantity=73|${UCUM}|kg`, Obs('u-weight-kg', 'u-weight-lb'), { fixtures: UCUM_SET }],
    // 7e4 g is [65000, 75000) g
    ['exponent precision in another unit', `Observation?value-quantity=7e4|${UCUM}|g`, Obs('u-weight-kg', 'u-weight-g', 'u-weight-lb'), { fixtures: UCUM_SET }],
    ['ge across units', `Observation?value-quantity=ge70000|${UCUM}|g`, Obs('u-weight-kg', 'u-weight-lb'), { fixtures: UCUM_SET }],
    ['le across units', `Observation?value-quantity=le70|${UCUM}|kg`, Obs('u-weight-g'), { fixtures: UCUM_SET }],
    // t is the tonne: 0.07 t = 70000 g
    ['lt in a third unit', `Observation?value-quantity=lt0.07|${UCUM}|t`, Obs('u-weight-g'), { fixtures: UCUM_SET }],
    ['gt in pounds', `Observation?value-quantity=gt155|${UCUM}|[lb_av]`, Obs('u-weight-kg', 'u-weight-lb'), { fixtures: UCUM_SET }],
    // 65 kg ± 10% is [58500, 71500] g
    ['ap is ±10% in canonical units', `Observation?value-quantity=ap65|${UCUM}|kg`, Obs('u-weight-g'), { fixtures: UCUM_SET }],
    // rows in canonical unit g outside [72499.5, 72500.5); other units and non-UCUM rows are not "not equal"
    ['ne compares in canonical units', `Observation?value-quantity=ne72500|${UCUM}|g`, Obs('u-weight-g', 'u-weight-lb'), { fixtures: UCUM_SET }],
    // 110 mg/dL is [109.5, 110.5) mg/dL = [1095, 1105) g/m3
    ['mg/dL finds g/L', `Observation?value-quantity=110|${UCUM}|mg/dL`, Obs('u-glucose-mgdl', 'u-glucose-gl'), { fixtures: UCUM_SET }],
    ['g/L finds mg/dL', `Observation?value-quantity=1.1|${UCUM}|g/L`, Obs('u-glucose-mgdl', 'u-glucose-gl'), { fixtures: UCUM_SET }],
    // 105 mg/dL ± 10% is [945, 1155] g/m3
    ['ap with mass concentrations', `Observation?value-quantity=ap105|${UCUM}|mg/dL`, Obs('u-glucose-mgdl', 'u-glucose-gl'), { fixtures: UCUM_SET }],
    // mmol/L is a substance concentration (m-3): never compared with a mass concentration
    ['another dimension never matches', `Observation?value-quantity=gt0|${UCUM}|mg/dL`, Obs('u-glucose-mgdl', 'u-glucose-gl'), { fixtures: UCUM_SET }],
    ['mmol/L finds umol/L', `Observation?value-quantity=6100|${UCUM}|umol/L`, Obs('u-glucose-mmol'), { fixtures: UCUM_SET }],
    ['% is dimensionless', `Observation?value-quantity=0.97|${UCUM}|1`, Obs('u-spo2'), { fixtures: UCUM_SET }],
    // Cel has an offset: 39 Cel is 312.15 K, not 39 K, and is left out of canonical searches
    ['Cel is not converted as if it were K', `Observation?value-quantity=39|${UCUM}|K`, [], { fixtures: UCUM_SET }],
    ['K compares only K', `Observation?value-quantity=gt300|${UCUM}|K`, Obs('u-temp-k'), { fixtures: UCUM_SET }],
    ['Cel is compared as written', `Observation?value-quantity=ge39|${UCUM}|Cel`, Obs('u-temp-cel'), { fixtures: UCUM_SET }],
    ['[degF] is compared as written', `Observation?value-quantity=gt100|${UCUM}|[degF]`, Obs('u-temp-degf'), { fixtures: UCUM_SET }],
    // {score} reads as 1 in UCUM, but an annotation names what was counted
    ['an annotation is compared as written', `Observation?value-quantity=7|${UCUM}|{score}`, Obs('u-score'), { fixtures: UCUM_SET }],
    ['an annotation is not dimensionless 1', `Observation?value-quantity=7|${UCUM}|1`, [], { fixtures: UCUM_SET }],
    ['an arbitrary unit is compared as written', `Observation?value-quantity=5|${UCUM}|m[IU]/L`, Obs('u-iu'), { fixtures: UCUM_SET }],
    ['an arbitrary unit is not converted', `Observation?value-quantity=0.005|${UCUM}|[IU]/L`, [], { fixtures: UCUM_SET }],
    ['an invalid code is compared as written', `Observation?value-quantity=72.5|${UCUM}|kilogram`, Obs('u-weight-badcode'), { fixtures: UCUM_SET }],
    // number||code: any system, the code as written (search.html#quantity); no conversion
    ['no system: the code as written', 'Observation?value-quantity=72500||g', Obs('u-weight-nosystem'), { fixtures: UCUM_SET }],
    ['no system: any system, not converted', 'Observation?value-quantity=72.5||kg', Obs('u-weight-kg', 'u-weight-local'), { fixtures: UCUM_SET }],
    ['a non-UCUM system is compared as written', 'Observation?value-quantity=72.5|http://example.org/fhir/units|kg', Obs('u-weight-local'), { fixtures: UCUM_SET }],
    ['number only is not converted', 'Observation?value-quantity=72500', Obs('u-weight-nosystem'), { fixtures: UCUM_SET }],
    ['OR of a canonical and a written value', `Observation?value-quantity=72500|${UCUM}|g,39|${UCUM}|Cel`, Obs('u-weight-kg', 'u-temp-cel'), { fixtures: UCUM_SET }],
    // 2558 [oz_av] is 72518.08 g: between 72.5 kg and 160 [lb_av]
    ['AND of two canonical values', `Observation?value-quantity=gt70|${UCUM}|kg&value-quantity=lt2558|${UCUM}|[oz_av]`, Obs('u-weight-kg'), { fixtures: UCUM_SET }],
    ['composite code$quantity', `Observation?code-value-quantity=http://loinc.org|29463-7$ge70000|${UCUM}|g`, Obs('u-weight-kg', 'u-weight-lb'), { fixtures: UCUM_SET }],
    ['composite component in kPa finds mm[Hg]', `Observation?component-code-value-quantity=http://loinc.org|8480-6$gt15|${UCUM}|kPa`, Obs('u-bp-mmhg', 'u-bp-kpa'), { fixtures: UCUM_SET }],
    ['composite component in mm[Hg] finds kPa', `Observation?component-code-value-quantity=http://loinc.org|8480-6$lt125|${UCUM}|mm[Hg]`, Obs('u-bp-kpa'), { fixtures: UCUM_SET }],
    // the diastolic values are 11.33 and 10 kPa: the systolic ones must not lend theirs
    ['composite components stay correlated', `Observation?component-code-value-quantity=http://loinc.org|8462-4$gt15|${UCUM}|kPa`, [], { fixtures: UCUM_SET }],
    ['component-value-quantity', `Observation?component-value-quantity=lt11|${UCUM}|kPa`, Obs('u-bp-kpa'), { fixtures: UCUM_SET }],
  ]),

  ...group('chain', [
    ['subject:Patient.name', 'Observation?subject:Patient.name=müller', Obs('obs-weight-mueller')],
    // subject can point to Patient or Location (both have name); Patient/example has 5 observations
    ['untyped chain', 'Observation?subject.name=peter', Obs('example', 'blood-pressure', 'body-temperature', 'bmi', 'satO2')],
    ['patient.gender', 'Observation?patient.gender=female', Obs('obs-height-elkina', 'obs-glucose-ozdemir')],
    ['chain to a date', 'Observation?subject:Patient.birthdate=lt1950', Obs('f001')],
    ['chain to a token system|', 'Observation?subject:Patient.identifier=http://hl7.it/sid/codiceFiscale|', Obs('obs-weight-mueller', 'obs-glucose-ozdemir')],
    ['chain with OR values', 'Observation?subject:Patient.family=müller,ёлкина', Obs('obs-weight-mueller', 'obs-height-elkina')],
    ['chain to address-country', 'Observation?subject:Patient.address-country=IT', Obs('obs-glucose-ozdemir', 'obs-temp-nguyen')],
    ['two levels', 'Encounter?subject.organization.name=Burgers', Enc('f001')],
    ['two levels with a type', 'Encounter?subject:Patient.organization.name=stadtisches', Enc('enc-mueller')],
    ['three levels', 'Encounter?subject.organization.partof.name=UNHCR', Enc('enc-elkina', 'enc-ozdemir')],
    ['chain to _id', 'Observation?subject:Patient._id=mueller', Obs('obs-weight-mueller')],
    ['two levels from Condition', 'Condition?encounter.service-provider.name=stadt', Cond('cond-tb-mueller')],
    ['chain on requester', 'MedicationRequest?requester:Practitioner.family=al-khatib', MedRx('medrx-mueller', 'medrx-nguyen')],
    ['chain and a plain parameter', 'Observation?subject:Patient.gender=male&code=8310-5', Obs('body-temperature', 'f202', 'obs-temp-nguyen')],
    ['chain to a missing target', 'Observation?performer:Practitioner.family=Langeveld', []],
    ['chain on a non-reference parameter', 'Patient?gender.name=x', [], { status: 400 }],
    ['chains nest at most four levels', 'Encounter?subject.organization.partof.partof.partof.partof.name=x', [], { status: 400 }],
  ]),

  ...group('_has', [
    ['_has on code', 'Patient?_has:Observation:patient:code=http://loinc.org|8310-5', Pat('example', 'f201', 'nguyen')],
    ['_has on status', 'Patient?_has:Observation:subject:status=preliminary', Pat('nguyen')],
    ['_has on Condition', 'Patient?_has:Condition:subject:code=http://snomed.info/sct|56717001', Pat('mueller')],
    ['nested _has', 'Patient?_has:Encounter:subject:_has:Condition:encounter:code=56717001', Pat('mueller')],
    ['nested _has (official examples)', 'Patient?_has:Encounter:subject:_has:Condition:encounter:code=386661006', Pat('f201')],
    ['_has with a chain inside', 'Patient?_has:Observation:subject:performer:Practitioner.family=al-khatib', Pat('mueller')],
    ['_has from Patient to Organization', 'Organization?_has:Patient:organization:gender=female', Org('lampedusa')],
    ['_has to Practitioner', 'Practitioner?_has:Encounter:participant:status=finished', Prac('f201', 'example', 'alkhatib')],
    ['two _has ANDed', 'Patient?_has:Observation:patient:code=8310-5&_has:Condition:subject:clinical-status=resolved', Pat('f201', 'nguyen')],
    ['_has on a quantity', 'Patient?_has:Observation:patient:value-quantity=gt100', Pat('example', 'elkina')],
    ['_has with OR values', 'Patient?_has:Condition:subject:code=56717001,66071002', Pat('mueller', 'nguyen')],
    ['_has on _id', 'Patient?_has:Observation:subject:_id=obs-weight-mueller', Pat('mueller')],
    // blood-pressure (components only), lang (a CodeableConcept) and job (a string) have no valueQuantity
    ['_has with :missing', 'Patient?_has:Observation:subject:value-quantity:missing=true', Pat('example', 'mohammed', 'papadopoulos')],
    ['_has through a reference that cannot point here', 'Patient?_has:Observation:encounter:code=x', [], { status: 400 }],
    ['malformed _has', 'Patient?_has:Observation:patient=x', [], { status: 400 }],
    ['_has with an unknown type', 'Patient?_has:Nonsense:patient:code=x', [], { status: 400 }],
  ]),

  ...group('include', [
    ['_include', 'Observation?_id=obs-weight-mueller&_include=Observation:subject', Obs('obs-weight-mueller'), { included: Pat('mueller') }],
    ['_include then :iterate', 'Observation?_id=obs-weight-mueller&_include=Observation:subject&_include:iterate=Patient:organization', Obs('obs-weight-mueller'), { included: [...Pat('mueller'), ...Org('klinikum')] }],
    ['_include=Type:*', 'Observation?_id=obs-weight-mueller&_include=Observation:*', Obs('obs-weight-mueller'), { included: [...Pat('mueller'), ...Enc('enc-mueller'), ...Prac('alkhatib')] }],
    ['_include with a target type', 'Observation?_id=f202&_include=Observation:performer:Practitioner', Obs('f202'), { included: Prac('f201') }],
    ['_include of a resource not on the server', 'Observation?_id=f001&_include=Observation:performer', Obs('f001'), { included: [] }],
    ['_include one level', 'Organization?_id=lampedusa&_include=Organization:partof', Org('lampedusa'), { included: Org('unhcr-it') }],
    ['_include:iterate follows the chain', 'Organization?_id=lampedusa&_include:iterate=Organization:partof', Org('lampedusa'), { included: Org('unhcr-it', 'unhcr') }],
    ['three :iterate levels', 'Observation?_id=obs-height-elkina&_include=Observation:subject&_include:iterate=Patient:organization&_include:iterate=Organization:partof', Obs('obs-height-elkina'), { included: [...Pat('elkina'), ...Org('lampedusa', 'unhcr-it', 'unhcr')] }],
    ['_include=*', 'Observation?_id=obs-weight-mueller&_include=*', Obs('obs-weight-mueller'), { included: [...Pat('mueller'), ...Enc('enc-mueller'), ...Prac('alkhatib')] }],
    ['_total counts matches, not includes', 'Patient?_id=mueller&_revinclude=Observation:subject&_revinclude=RiskAssessment:subject&_total=accurate', Pat('mueller'), { included: [...Obs('obs-weight-mueller'), ...RA('ra-mueller')], total: 1 }],
    ['two _include', 'Encounter?_id=enc-mueller&_include=Encounter:participant&_include=Encounter:service-provider', Enc('enc-mueller'), { included: [...Prac('alkhatib'), ...Org('klinikum')] }],
    ['matches are not repeated as includes', 'Patient?_id=pat1,pat2&_include=Patient:link', Pat('pat1', 'pat2'), { included: [] }],
    ['_revinclude', 'Patient?_id=mueller&_revinclude=Observation:subject', Pat('mueller'), { included: Obs('obs-weight-mueller') }],
    ['_revinclude then :iterate', 'Patient?_id=mueller&_revinclude=Encounter:subject&_revinclude:iterate=Condition:encounter', Pat('mueller'), { included: [...Enc('enc-mueller'), ...Cond('cond-tb-mueller')] }],
    ['_revinclude=*', 'Patient?_id=elkina&_revinclude=*', Pat('elkina'), { included: [...Obs('obs-height-elkina'), ...Enc('enc-elkina'), ...Cond('cond-htn-elkina'), ...QR('qr-elkina'), ...RA('ra-elkina')] }],
    ['_include and _revinclude', 'Encounter?_id=enc-mueller&_include=Encounter:subject&_revinclude=Observation:encounter', Enc('enc-mueller'), { included: [...Pat('mueller'), ...Obs('obs-weight-mueller')] }],
    ['_include on every page', 'Observation?subject=Patient/example&_include=Observation:subject&_count=2', Obs('example', 'blood-pressure', 'body-temperature', 'bmi', 'satO2'), { included: Pat('example') }],
    ['_include with a chain', 'MedicationRequest?requester:Practitioner.family=al-khatib&_include=MedicationRequest:patient', MedRx('medrx-mueller', 'medrx-nguyen'), { included: Pat('mueller', 'nguyen') }],
    ['_include at system level', '?_type=Encounter&_id=enc-nguyen&_include=Encounter:subject', Enc('enc-nguyen'), { included: Pat('nguyen') }],
    ['_include of another type needs :iterate', 'Patient?_id=mueller&_include=Observation:subject', [], { status: 400 }],
    ['_include of a non-reference parameter', 'Observation?_include=Observation:status', [], { status: 400 }],
  ]),

  ...group('sort', [
    ['_sort=birthdate', 'Patient?birthdate:missing=false&_sort=birthdate', Pat('xcda', 'f001', 'f201', 'papadopoulos', 'example', 'ozdemir', 'mueller', 'elkina', 'nguyen'), { ordered: true }],
    ['_sort=-birthdate', 'Patient?birthdate:missing=false&_sort=-birthdate', Pat('nguyen', 'elkina', 'mueller', 'ozdemir', 'example', 'papadopoulos', 'f201', 'f001', 'xcda'), { ordered: true }],
    ['missing values sort last', 'Patient?_id=pat1,mueller,example&_sort=birthdate', Pat('example', 'mueller', 'pat1'), { ordered: true }],
    ['missing values sort last descending too', 'Patient?_id=pat1,mueller,example&_sort=-birthdate', Pat('mueller', 'example', 'pat1'), { ordered: true }],
    // pat2 has given names Duck and D: ascending uses the smallest ("d"), descending the largest ("duck")
    ['ascending uses the smallest value', 'Patient?family=Donald&_sort=given', Pat('pat2', 'pat1'), { ordered: true }],
    ['two keys, the second breaks the tie', 'Patient?family=Donald&_sort=-given,_id', Pat('pat1', 'pat2'), { ordered: true }],
    ['-date then _id', 'Observation?subject=Patient/example&_sort=-date,_id', Obs('example', 'satO2', 'blood-pressure', 'bmi', 'body-temperature'), { ordered: true }],
    ['quantity', 'Observation?value-quantity=lt40&_sort=value-quantity', Obs('obs-glucose-ozdemir', 'f001', 'bmi', 'body-temperature', 'obs-temp-nguyen', 'f202'), { ordered: true }],
    ['quantity descending', 'Observation?value-quantity=lt40&_sort=-value-quantity', Obs('f202', 'obs-temp-nguyen', 'body-temperature', 'bmi', 'f001', 'obs-glucose-ozdemir'), { ordered: true }],
    ['number: min ascending, max descending', 'RiskAssessment?_sort=probability', RA('ra-elkina', 'ra-mueller', 'ra-nguyen'), { ordered: true }],
    ['number descending', 'RiskAssessment?_sort=-probability', RA('ra-mueller', 'ra-nguyen', 'ra-elkina'), { ordered: true }],
    // folded names by code point: mohammed < muller < nguyen < ozdemir < Greek < Cyrillic
    ['string across scripts', 'Patient?_profile=http://example.org/fhir/StructureDefinition/migrant-patient&_sort=family', Pat('mohammed', 'mueller', 'nguyen', 'ozdemir', 'papadopoulos', 'elkina'), { ordered: true }],
    ['_id', 'Patient?_profile=http://example.org/fhir/StructureDefinition/migrant-patient&_sort=_id', Pat('elkina', 'mohammed', 'mueller', 'nguyen', 'ozdemir', 'papadopoulos'), { ordered: true }],
    ['-_id', 'Patient?_profile=http://example.org/fhir/StructureDefinition/migrant-patient&_sort=-_id', Pat('papadopoulos', 'ozdemir', 'nguyen', 'mueller', 'mohammed', 'elkina'), { ordered: true }],
    // fixtures are written in order: mueller, elkina, ozdemir
    ['-_lastUpdated', 'Patient?_id=mueller,elkina,ozdemir&_sort=-_lastUpdated', Pat('ozdemir', 'elkina', 'mueller'), { ordered: true }],
    ['_lastUpdated', 'Patient?_tag=http://example.org/fhir/tags|migrant-intake&_sort=_lastUpdated', Pat('mueller', 'elkina', 'mohammed'), { ordered: true }],
    ['Periods with an open start first', 'Encounter?date:missing=false&_sort=date', Enc('enc-ozdemir', 'home', 'enc-nguyen', 'enc-mueller', 'enc-elkina'), { ordered: true }],
    // class codes: AMB (enc-mueller, f001, f201), EMER (enc-nguyen, enc-ozdemir), HH (home), IMP (enc-elkina, example)
    ['token, then _id', 'Encounter?_sort=class,_id', Enc('enc-mueller', 'f001', 'f201', 'enc-nguyen', 'enc-ozdemir', 'home', 'enc-elkina', 'example'), { ordered: true }],
    ['sorted over several pages', 'Patient?_sort=_id&_count=5', Pat('elkina', 'example', 'f001', 'f201', 'mohammed', 'mueller', 'nguyen', 'ozdemir', 'papadopoulos', 'pat1', 'pat2', 'xcda'), { ordered: true }],
    // references sort by their text (Type/id): Patient/elkina < Patient/example (example, home) < Patient/f001 < …
    ['reference, then _id', 'Encounter?_sort=subject,_id', Enc('enc-elkina', 'example', 'home', 'f001', 'f201', 'enc-mueller', 'enc-nguyen', 'enc-ozdemir'), { ordered: true }],
    ['reference descending', 'Encounter?_sort=-subject,_id', Enc('enc-ozdemir', 'enc-nguyen', 'enc-mueller', 'f201', 'f001', 'example', 'home', 'enc-elkina'), { ordered: true }],
    // managingOrganization: f001 Organization/f001, mueller Organization/klinikum, elkina Organization/lampedusa, nguyen none
    ['reference: missing values sort last', 'Patient?_id=nguyen,mueller,f001,elkina&_sort=organization', Pat('f001', 'mueller', 'elkina', 'nguyen'), { ordered: true }],
    ['reference descending: missing values sort last', 'Patient?_id=nguyen,mueller,f001,elkina&_sort=-organization', Pat('elkina', 'mueller', 'f001', 'nguyen'), { ordered: true }],
    ['unknown sort parameter', 'Patient?gender=female&_sort=shoe-size', Pat('elkina', 'ozdemir'), { ignored: ['_sort'] }],
    ['unknown sort parameter, strict', 'Patient?gender=female&_sort=shoe-size', [], { headers: STRICT, status: 400, errorMentions: 'shoe-size' }],
  ]),

  ...group('paging', [
    ['_count=1 over three matches', 'Observation?code=8310-5&_count=1', Obs('body-temperature', 'f202', 'obs-temp-nguyen')],
    ['_count with _total=accurate', 'Patient?gender=female&_total=accurate&_count=1', Pat('elkina', 'ozdemir'), { total: 2 }],
    ['_total=accurate', 'Observation?category=vital-signs&_total=accurate', Obs('example', 'blood-pressure', 'body-temperature', 'f202', 'bmi', 'satO2', 'obs-weight-mueller', 'obs-height-elkina', 'obs-temp-nguyen'), { total: 9 }],
    ['_summary=count', 'Patient?gender=female&_summary=count', [], { total: 2 }],
    ['_summary=count of a type', 'Patient?_summary=count', [], { total: 12 }],
    ['_count=0 returns no entries but the total', 'Patient?gender=male&_count=0', [], { total: 9 }],
    ['roster: sorted with ties, 4 a page', 'Patient?family=rostova&_sort=birthdate,_id&_count=4', rostova(1, 4, 7, 10, 13, 16, 19, 22, 2, 5, 8, 11, 14, 17, 20, 23, 3, 6, 9, 12, 15, 18, 21), { fixtures: ROSTER, ordered: true }],
    ['roster: descending with ties, 3 a page', 'Patient?_sort=-birthdate,-_id&_count=3', rostova(21, 18, 15, 12, 9, 6, 3, 23, 20, 17, 14, 11, 8, 5, 2, 22, 19, 16, 13, 10, 7, 4, 1), { fixtures: ROSTER, ordered: true }],
    ['roster: unsorted pages', 'Patient?_count=5', rostova(...Array.from({ length: 23 }, (_, i) => i + 1)), { fixtures: ROSTER }],
    ['roster: sort key with ties only', 'Patient?_sort=birthdate&_count=2&_total=accurate', rostova(...Array.from({ length: 23 }, (_, i) => i + 1)), { fixtures: ROSTER, total: 23 }],
    ['roster: prefix search, -_id', 'Patient?given=irina-1&_sort=-_id&_count=3', rostova(19, 18, 17, 16, 15, 14, 13, 12, 11, 10), { fixtures: ROSTER, ordered: true }],
    ['roster: page size larger than the result', 'Patient?birthdate=1993&_count=50&_sort=_id', rostova(3, 6, 9, 12, 15, 18, 21), { fixtures: ROSTER, ordered: true, total: 7 }],
    ['_count above the maximum is capped', 'Patient?gender=female&_count=999999999', Pat('elkina', 'ozdemir')],
    // keyset pages across the values that stand in for a missing sort value
    ['pages through missing dates, ascending', 'Patient?_sort=birthdate,_id&_count=2', Pat('xcda', 'f001', 'f201', 'papadopoulos', 'example', 'ozdemir', 'mueller', 'elkina', 'nguyen', 'mohammed', 'pat1', 'pat2'), { ordered: true }],
    ['pages through missing dates, descending', 'Patient?_sort=-birthdate,_id&_count=4', Pat('nguyen', 'elkina', 'mueller', 'ozdemir', 'example', 'papadopoulos', 'f201', 'f001', 'xcda', 'mohammed', 'pat1', 'pat2'), { ordered: true }],
    // folded cities: amsterdam (f001, f201), berlin, lampedusa, munchen, palermo, pleasantville, αθηνα; none for mohammed, pat1, pat2, xcda
    ['pages through missing strings, ascending', 'Patient?_sort=address-city,_id&_count=3', Pat('f001', 'f201', 'elkina', 'nguyen', 'mueller', 'ozdemir', 'example', 'papadopoulos', 'mohammed', 'pat1', 'pat2', 'xcda'), { ordered: true }],
    ['pages through missing strings, descending', 'Patient?_sort=-address-city,_id&_count=5', Pat('papadopoulos', 'example', 'ozdemir', 'mueller', 'nguyen', 'elkina', 'f001', 'f201', 'mohammed', 'pat1', 'pat2', 'xcda'), { ordered: true }],
  ]),

  ...group('subsetting', [
    ['_elements', 'Patient?_id=mueller&_elements=gender', Pat('mueller'), { elements: { present: ['id', 'meta', 'gender'], absent: ['name', 'birthDate', 'address'], subsetted: true } }],
    ['_elements with two elements', 'Patient?_id=mueller&_elements=name,birthDate', Pat('mueller'), { elements: { present: ['name', 'birthDate'], absent: ['gender', 'address', 'telecom'], subsetted: true } }],
    ['_summary=true', 'Patient?_id=f201&_summary=true', Pat('f201'), { elements: { present: ['name', 'gender', 'birthDate', 'identifier'], absent: ['photo', 'contact', 'maritalStatus', 'communication'], subsetted: true } }],
    ['_summary=text', 'Patient?_id=f201&_summary=text', Pat('f201'), { elements: { present: ['text'], absent: ['name', 'gender'], subsetted: true } }],
    ['_summary=data', 'Patient?_id=f201&_summary=data', Pat('f201'), { elements: { present: ['name', 'photo'], absent: ['text'], subsetted: true } }],
    ['no subsetting', 'Patient?_id=f201', Pat('f201'), { elements: { present: ['text', 'name', 'photo'], subsetted: false } }],
  ]),

  ...group('compartment', [
    ['Patient/x/Observation', 'Patient/mueller/Observation', Obs('obs-weight-mueller')],
    ['Patient/x/Condition', 'Patient/example/Condition', Cond('example', 'stroke')],
    ['compartment with a parameter', 'Patient/example/Observation?code=http://loinc.org|8310-5', Obs('body-temperature')],
    ['Patient/x/Encounter', 'Patient/mueller/Encounter', Enc('enc-mueller')],
    ['Patient/x/MedicationRequest', 'Patient/mueller/MedicationRequest', MedRx('medrx-mueller')],
    ['Patient/x/QuestionnaireResponse', 'Patient/mohammed/QuestionnaireResponse', QR('qr-mohammed')],
    ['Practitioner/x/Encounter', 'Practitioner/alkhatib/Encounter', Enc('enc-mueller')],
    ['Practitioner/x/Observation', 'Practitioner/alkhatib/Observation', Obs('obs-weight-mueller')],
    ['Practitioner/x/MedicationRequest', 'Practitioner/alkhatib/MedicationRequest', MedRx('medrx-mueller', 'medrx-nguyen')],
    ['Encounter/x/Observation', 'Encounter/enc-mueller/Observation', Obs('obs-weight-mueller')],
    ['compartment with paging', 'Patient/example/Observation?_count=2&_sort=_id', Obs('blood-pressure', 'bmi', 'body-temperature', 'example', 'satO2'), { ordered: true }],
    ['unknown compartment member', 'Patient/nobody/Observation', []],
    ['a type outside the compartment', 'Patient/mueller/Organization', [], { status: 400 }],
    // every resource that refers to Patient/mueller through a Patient compartment parameter
    ['Patient/x/* (every type)', 'Patient/mueller/*', [...Enc('enc-mueller'), ...Obs('obs-weight-mueller'), ...Cond('cond-tb-mueller'), ...MedRx('medrx-mueller'), ...SR('sr-xray-mueller'), ...RA('ra-mueller')]],
    ['Patient/x/* narrowed by _type', 'Patient/mueller/*?_type=Condition,ServiceRequest', [...Cond('cond-tb-mueller'), ...SR('sr-xray-mueller')]],
    ['Patient/x/* with a parameter of every type', 'Patient/mueller/*?_id=enc-mueller,ra-mueller', [...Enc('enc-mueller'), ...RA('ra-mueller')]],
    // cond-tb-mueller, medrx-mueller, obs-weight-mueller and sr-xray-mueller name Encounter/enc-mueller
    ['Encounter/x/*', 'Encounter/enc-mueller/*', [...Obs('obs-weight-mueller'), ...Cond('cond-tb-mueller'), ...MedRx('medrx-mueller'), ...SR('sr-xray-mueller')]],
  ]),

  ...group('post', [
    ['POST [type]/_search with a form body', 'Patient/_search', Pat('elkina', 'ozdemir'), { method: 'POST', body: 'gender=female' }],
    ['query string and body combine', 'Patient/_search?family=Özdemir', Pat('ozdemir'), { method: 'POST', body: 'gender=female' }],
    ['POST with paging', 'Observation/_search', Obs('body-temperature', 'f202', 'obs-temp-nguyen'), { method: 'POST', body: 'code=http://loinc.org|8310-5&_count=1' }],
    ['POST with a repeated parameter', 'Observation/_search', Obs('f202'), { method: 'POST', body: 'code=http://loinc.org|8310-5&code=http://acme.lab|BT' }],
    ['POST at system level', '_search', Prac('alkhatib'), { method: 'POST', body: '_type=Patient,Practitioner&name=al' }],
    ['POST with an unknown parameter', 'Patient/_search', Pat('elkina', 'ozdemir'), { method: 'POST', body: 'gender=female&shoe-size=42', ignored: ['shoe-size'] }],
    ['POST with a malformed date', 'Patient/_search', [], { method: 'POST', body: 'birthdate=1985-13', status: 400 }],
  ]),

  ...group('system', [
    // "van de Heuvel", "Văn" and "van den broek"
    ['_type with a common parameter', '?_type=Patient,Practitioner&name=van', [...Pat('f001', 'nguyen'), ...Prac('f001')]],
    ['_type with _id', '?_type=Patient,Organization&_id=f001', [...Pat('f001'), ...Org('f001')]],
    ['every type', '?_id=f201', [...Pat('f201'), ...Prac('f201'), ...Org('f201'), ...Enc('f201'), ...Cond('f201'), ...QR('f201')]],
    ['patient across two types', '?_type=Observation,Condition&patient=Patient/mueller', [...Obs('obs-weight-mueller'), ...Cond('cond-tb-mueller')]],
    ['one type in _type', '?_type=Patient&gender=female', Pat('elkina', 'ozdemir')],
    ['three types with address-city', '?_type=Patient,Practitioner,Location&address-city=lampedusa', [...Pat('nguyen'), ...Prac('alkhatib'), ...Loc('hotspot')]],
    ['sorted across types', '?_type=Patient,Practitioner&gender=female&_sort=_id', [...Prac('alkhatib'), ...Pat('elkina', 'ozdemir')], { ordered: true }],
    ['a parameter not on every type is ignored', '?_type=Patient,Observation&gender=female', [...ALL_PATIENTS, ...ALL_OBSERVATIONS], { ignored: ['gender'] }],
    ['a parameter not on every type, strict', '?_type=Patient,Observation&gender=female', [], { headers: STRICT, status: 400, errorMentions: 'gender' }],
    ['unknown type', '?_type=Patient,Nonsense', [], { status: 400 }],
  ]),

  ...group('handling', [
    ['unknown parameter is ignored and reported', 'Patient?gender=female&shoe-size=42', Pat('elkina', 'ozdemir'), { ignored: ['shoe-size'] }],
    ['unknown parameter, strict', 'Patient?gender=female&shoe-size=42', [], { headers: STRICT, status: 400, errorMentions: 'shoe-size' }],
    ['two unknown parameters', 'Patient?foo=1&gender=female&bar=2', Pat('elkina', 'ozdemir'), { ignored: ['foo', 'bar'] }],
    ['_format and _pretty are not search parameters', 'Patient?gender=female&_format=json&_pretty=true', Pat('elkina', 'ozdemir')],
    ['special parameter near is not supported', 'Location?near=35.5|12.6|10|km', Loc('hotspot'), { ignored: ['near'] }],
    ['special parameter near, strict', 'Location?near=35.5|12.6|10|km', [], { headers: STRICT, status: 400, errorMentions: 'near' }],
    ['_filter is not supported', 'Patient?gender=female&_filter=family eq x', Pat('elkina', 'ozdemir'), { ignored: ['_filter'] }],
    ['_content is not supported', 'Patient?gender=female&_content=cough', Pat('elkina', 'ozdemir'), { ignored: ['_content'] }],
    ['_text is not supported', 'Patient?gender=female&_text=cough', Pat('elkina', 'ozdemir'), { ignored: ['_text'] }],
    ['_text, strict', 'Patient?gender=female&_text=cough', [], { headers: STRICT, status: 400, errorMentions: '_text' }],
    ['a parameter without an expression is not supported', 'Patient?gender=female&age=30', Pat('elkina', 'ozdemir'), { ignored: ['age'] }],
    ['_list of a List that does not exist', 'Patient?gender=female&_list=42', []],
    ['functional lists are not supported', 'Patient?gender=female&_list=$current-problems', Pat('elkina', 'ozdemir'), { ignored: ['_list'] }],
    ['_contained is not supported', 'Patient?gender=female&_contained=true', Pat('elkina', 'ozdemir'), { ignored: ['_contained'] }],
    ['explicit lenient handling', 'Patient?gender=female&shoe-size=42', Pat('elkina', 'ozdemir'), { headers: { prefer: 'handling=lenient' }, ignored: ['shoe-size'] }],
    ['unknown modifier', 'Patient?name:sounds-like=muller', [], { status: 400 }],
    ['modifier not valid for token', 'Patient?gender:exact=female', [], { status: 400 }],
    ['modifier not valid for date', 'Patient?birthdate:exact=1985', [], { status: 400 }],
    [':missing needs true or false', 'Patient?birthdate:missing=yes', [], { status: 400 }],
    [':Type modifier that the reference cannot point to', 'Observation?subject:Organization=1', [], { status: 400 }],
    ['value of another type than the :Type modifier', 'Observation?subject:Patient=Group/101', [], { status: 400 }],
    ['reference that is not a reference', 'Observation?subject=Patient/', [], { status: 400 }],
    ['chain to an unknown parameter, strict', 'Observation?subject:Patient.shoe-size=42', [], { headers: STRICT, status: 400 }],
  ]),

  ...group('malformed', [
    ['month 13', 'Patient?birthdate=1985-13', [], { status: 400, errorMentions: 'birthdate' }],
    ['30 February', 'Patient?birthdate=2023-02-30', [], { status: 400 }],
    ['two-digit year', 'Patient?birthdate=85-01-01', [], { status: 400 }],
    ['hour without minutes', 'Observation?date=2023-05-10T08', [], { status: 400 }],
    ['hour 25', 'Observation?date=2023-05-10T25:00:00Z', [], { status: 400 }],
    ['a word', 'Patient?birthdate=yesterday', [], { status: 400 }],
    ['prefix without a value', 'Patient?birthdate=ge', [], { status: 400 }],
    ['unknown prefix', 'Patient?birthdate=xx1985', [], { status: 400 }],
    ['prefix twice', 'Patient?birthdate=gege1985', [], { status: 400 }],
    ['not a number', 'RiskAssessment?probability=abc', [], { status: 400, errorMentions: 'probability' }],
    ['number prefix without a value', 'RiskAssessment?probability=gt', [], { status: 400 }],
    ['two decimal points', 'RiskAssessment?probability=0.5.5', [], { status: 400 }],
    ['one bad value among OR values', 'RiskAssessment?probability=0.5,x', [], { status: 400 }],
    ['quantity that is not a number', 'Observation?value-quantity=heavy||kg', [], { status: 400 }],
    ['quantity number|system without code', 'Observation?value-quantity=72.5|http://unitsofmeasure.org', [], { status: 400 }],
    ['empty OR value', 'Patient?gender=female,', [], { status: 400 }],
    ['_count not a number', 'Patient?_count=ten', [], { status: 400 }],
    ['_count negative', 'Patient?_count=-1', [], { status: 400 }],
    ['_total unknown', 'Patient?_total=maybe', [], { status: 400 }],
    ['_summary unknown', 'Patient?_summary=everything', [], { status: 400 }],
    ['_lastUpdated not a date', 'Patient?_lastUpdated=recently', [], { status: 400 }],
    ['_page not issued by the server', 'Patient?_page=bm90LWEtY3Vyc29y', [], { status: 400 }],
    ['_include without a parameter', 'Observation?_include=Observation', [], { status: 400 }],
    ['of-type needs three parts', 'Patient?identifier:of-type=MR|12345', [], { status: 400 }],
  ]),

  ...group('injection', [
    ['SQL in a string value', "Patient?name=' OR 1=1 --", []],
    ['SQL in :exact', "Patient?name:exact=' OR ''='", []],
    ['SQL in _id', "Patient?_id=' OR '1'='1", []],
    ['SQL UNION in a token', "Patient?identifier=x' UNION SELECT id FROM resource --", []],
    ['DROP TABLE in a string', "Patient?family=Robert'); DROP TABLE resource;--", []],
    ['DROP TABLE in a reference', "Observation?subject=Patient/x'); DROP TABLE sp_reference;--", [], { status: 400 }],
    ['% as :contains value is literal', 'Patient?name:contains=%', []],
    ['_ as :contains value is literal', 'Patient?name:contains=_', []],
    ['% as a prefix is literal', 'Patient?name=%', []],
    ['% matches a literal %', 'Organization?name:contains=%', Org('escape-corp')],
    ['_ matches a literal _', 'Organization?name:contains=_', Org('escape-corp')],
    ['a lone backslash', 'Organization?name:contains=\\', Org('escape-corp')],
    ['prefix with a literal %', 'Organization?name=100%', Org('escape-corp')],
    ['_ is not a wildcard in a prefix', 'Organization?name=100_', []],
    ['% in a token', 'Patient?identifier=%', []],
    ['Mongo operator as a string value', 'Patient?name={"$gt":""}', []],
    ['Mongo operator as a token', 'Patient?gender={"$ne":null}', []],
    ['Mongo operator as _id', 'Patient?_id={"$ne":null}', []],
    ['Mongo operator as a number', 'Observation?value-quantity={"$gt":0}', [], { status: 400 }],
    ['Mongo operator as a date', 'Patient?birthdate={"$gt":""}', [], { status: 400 }],
    ['Mongo operator in the parameter name is an unknown parameter', 'Patient?family[$ne]=x', ALL_PATIENTS, { ignored: ['family[$ne]'] }],
    ['$where as a parameter name', 'Patient?$where=1&gender=female', Pat('elkina', 'ozdemir'), { ignored: ['$where'] }],
    ['SQL in _sort', 'Patient?gender=female&_sort=name;DROP TABLE resource', Pat('elkina', 'ozdemir'), { ignored: ['_sort'] }],
    ['SQL in _count', 'Patient?_count=10;DELETE FROM resource', [], { status: 400 }],
    ['SQL in a compartment id', "Patient/x'%20OR%20'1'%3D'1/Observation", [], { raw: true, status: 400 }],
    ['NUL character is refused', 'Patient?name=%00', [], { raw: true, status: 400 }],
    ['NUL character in :contains is refused', 'Patient?name:contains=a%00%25', [], { raw: true, status: 400 }],
    ['SQL in _include', "Observation?_include=Observation:subject' OR 1=1 --", [], { status: 400 }],
    ['SQL in _revinclude', "Patient?_revinclude=*' --", [], { status: 400 }],
    ['SQL in _type', "?_type=Patient'--", [], { status: 400 }],
    ['SQL in _elements is just an unknown element', "Patient?_id=mueller&_elements=name'); DROP TABLE resource;--", Pat('mueller'), { elements: { present: ['id'], absent: ['name', 'gender'], subsetted: true } }],
    ['very long value', `Patient?name=${'a'.repeat(4000)}`, []],
  ]),
];
