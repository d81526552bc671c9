// JSON Schemas (draft-07, Ajv's default) of the data files under src/ that the server loads at
// start-up; check.ts applies them. Members are closed
// (additionalProperties: false) so that a misspelt member is an error, not a silently ignored
// setting; "$comment" is allowed everywhere, since the files cite their sources in it.
import { CHECKS } from '../mapping/national/checks.ts';
import { TYPE_SOURCE } from '../fhir/reference.ts';

const comment = { type: 'string' } as const;
const text = { type: 'string', minLength: 1 } as const;
/** an absolute URI: a scheme, a colon and no whitespace (https://…, urn:oid:…, urn:iso:…) */
const uri = { type: 'string', pattern: '^[a-z][a-z0-9+.-]*:\\S+$' } as const;
const coding = {
  type: 'object',
  required: ['system', 'code'],
  properties: { system: uri, code: text, display: text },
  additionalProperties: false,
} as const;
const count = { type: 'integer', minimum: 0 } as const;

/** src/mapping/<country>/profile.json: src/mapping/national/table.ts NationalTable */
const nationalProfile = {
  type: 'object',
  required: ['id', 'version', 'country', 'title', 'system', 'profiles', 'identifiers'],
  properties: {
    $comment: comment,
    id: { type: 'string', pattern: '^[a-z]{2}$' },
    version: text,
    country: { type: 'string', pattern: '^[A-Z]{2}$' },
    title: text,
    system: text,
    profiles: { type: 'object', propertyNames: { pattern: `^${TYPE_SOURCE}$` }, additionalProperties: uri },
    identifiers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id'],
        properties: {
          $comment: comment,
          id: text,
          nationalSystem: uri,
          accept: { type: 'array', items: uri },
          nationalUse: { type: 'string', enum: ['official', 'usual', 'secondary'] },
          nationalType: coding,
          migfhirType: coding,
          check: { type: 'string', enum: Object.keys(CHECKS) },
          normalize: { type: 'string', enum: ['digits'] },
        },
        additionalProperties: false,
      },
    },
    extensions: {
      type: 'array',
      items: { type: 'object', required: ['national', 'migfhir'], properties: { national: uri, migfhir: uri }, additionalProperties: false },
    },
    keep: { type: 'array', items: uri },
    minNames: count,
    maxNames: count,
    maxGiven: count,
    minIdentifiers: count,
    nameParts: { type: 'string', enum: ['family-or-given', 'family-and-given'] },
    officialName: { type: 'boolean' },
    patientNumber: { type: 'object', required: ['system', 'type'], properties: { system: uri, type: coding }, additionalProperties: false },
  },
  additionalProperties: false,
} as const;

/** src/mapping/identifier-systems.json: src/mapping/identifiers.ts */
const identifierSystems = {
  type: 'object',
  required: ['systems', 'passport', 'local'],
  properties: {
    $comment: comment,
    systems: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'country', 'label', 'authorities', 'system', 'type'],
        properties: {
          $comment: comment,
          id: text,
          // '' for systems no single country issues
          country: { type: 'string', pattern: '^([A-Z]{2})?$' },
          label: text,
          authorities: { type: 'array', items: text },
          oid: { type: 'string', pattern: '^[0-2](\\.(0|[1-9][0-9]*))+$' },
          system: uri,
          type: coding,
          use: { type: 'string', enum: ['temp'] },
          // src/auth/sensitive-identifiers.ts
          revealsStatus: { type: 'boolean' },
          aliases: { type: 'array', items: uri, uniqueItems: true },
        },
        additionalProperties: false,
      },
    },
    passport: { type: 'object', required: ['systemPrefix', 'type'], properties: { $comment: comment, systemPrefix: uri, type: coding }, additionalProperties: false },
    local: { type: 'object', required: ['systemPrefix'], properties: { $comment: comment, systemPrefix: uri }, additionalProperties: false },
  },
  additionalProperties: false,
} as const;

const WEIGHTS = [
  'identifierMatch', 'identifierConflict', 'familyExact', 'familyPhonetic', 'familySimilar', 'familyDifferent',
  'givenExact', 'givenPhonetic', 'givenSimilar', 'givenDifferent', 'secondGivenAgree', 'secondGivenDifferent',
  'birthDateExact', 'birthDateSwapped', 'birthDateYearOnly', 'birthDateDefaulted', 'birthDateYearOff', 'birthDateNearYear',
  'birthDateSameYear', 'birthDateDifferent', 'genderAgree', 'genderDisagree', 'birthCountryAgree', 'birthCountryDisagree',
  'nationalityAgree', 'nationalityDisagree', 'twins', 'multipleBirthDifferent',
];
const closedNumbers = (keys: string[], value: object) => ({
  type: 'object',
  required: keys,
  properties: Object.fromEntries(keys.map((k) => [k, value])),
  additionalProperties: false,
});

/** src/mpi/match-config.json: src/mpi/match-settings.ts (a weight left out would score NaN) */
const matchConfig = {
  type: 'object',
  required: ['weights', 'grades', 'blocking', 'uniqueIdentifierSystems'],
  properties: {
    $comment: comment,
    weights: closedNumbers(WEIGHTS, { type: 'number' }),
    grades: closedNumbers(['certain', 'probable', 'possible'], { type: 'number' }),
    blocking: closedNumbers(['perPass', 'maxKeysPerWord', 'maxStoredKeys'], { type: 'integer', minimum: 1 }),
    uniqueIdentifierSystems: { type: 'array', items: uri, uniqueItems: true },
  },
  additionalProperties: false,
};

export const SCHEMAS = {
  'national-profile': nationalProfile,
  'identifier-systems': identifierSystems,
  'match-config': matchConfig,
} as const;

export type SchemaName = keyof typeof SCHEMAS;
