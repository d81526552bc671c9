// The JSON data files the server loads at start-up (national profile tables, identifier
// systems, match weights…) are checked against their JSON Schemas (schemas.ts) when they are
// loaded, so a typo in a file stops the server with the file and the JSON pointer of the
// problem instead of mapping or matching wrongly later. Each schema is compiled once, on first use.
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { SCHEMAS, type SchemaName } from './schemas.ts';

export class DataFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFileError';
  }
}

let ajv: Ajv | undefined;
const compiled = new Map<SchemaName, ValidateFunction>();

function validator(name: SchemaName): ValidateFunction {
  let v = compiled.get(name);
  if (!v) {
    ajv ??= new Ajv({ allErrors: false, strict: true });
    v = ajv.compile(SCHEMAS[name]);
    compiled.set(name, v);
  }
  return v;
}

function describe(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (e.keyword === 'additionalProperties') return `has an unknown member '${String(p.additionalProperty)}'`;
  if (e.keyword === 'enum') return `must be one of ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}`;
  return e.message ?? e.keyword;
}

/** `data`, read from `file`, when it satisfies the named schema; else a DataFileError naming
 * the file, the JSON pointer of the first problem and what is wrong there. */
export function checkDataFile<T>(file: string | URL, data: unknown, schema: SchemaName): T {
  const validate = validator(schema);
  if (validate(data)) return data as T;
  const path = file instanceof URL ? fileURLToPath(file) : file;
  const e = validate.errors![0];
  throw new DataFileError(`${path}: ${e.instancePath || '/'} ${describe(e)} (schema ${schema})`);
}
