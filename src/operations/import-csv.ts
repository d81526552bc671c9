// POST [base]/$import-csv (server-specific): an NGO clinic register exported as CSV, with its
// column-mapping file, becomes Patients, Encounters and ServiceRequests (adapter ngo-csv).
// In: Parameters with `csv` (valueBase64Binary of the file's bytes, or valueString),
// `mapping` (valueString: the mapping file's JSON) and optionally `dryRun` (valueBoolean; or
// ?dryRun=true). Each row is applied in its own transaction (src/mapping/apply.ts: conditional
// updates keyed on identifiers, a Provenance per row), so one bad row never blocks the others
// and re-importing the file writes only what changed. Out: Parameters with the counts, one
// `issue` per rejected row and column, an OperationOutcome, and with dryRun the Bundles.
import type { Parameters, ParametersParameter } from 'fhir/r4.js';
import { badRequest, FhirError, operationOutcome } from '../fhir/errors.ts';
import { applyAdapterBundle } from '../mapping/apply.ts';
import { describeError, mapFile } from '../mapping/csv/adapter.ts';
import type { CsvRowError } from '../mapping/csv/parse.ts';
import { defineOperation, parametersOf } from './types.ts';
import type { Handler } from '../rest/types.ts';

function inputOf(body: unknown, query: Record<string, string[]>): { csv: Buffer | string; mapping: string; dryRun: boolean } {
  const p = body as Parameters | undefined;
  if (p?.resourceType !== 'Parameters') throw badRequest('$import-csv takes a Parameters resource (csv, mapping, dryRun)', 'invalid');
  const get = (name: string) => p.parameter?.find((x) => x.name === name);
  const csv = get('csv');
  const file = csv?.valueBase64Binary !== undefined ? Buffer.from(csv.valueBase64Binary, 'base64') : csv?.valueString;
  if (file === undefined) throw badRequest('Parameter csv (valueBase64Binary or valueString) is required', 'required', ['Parameters.parameter']);
  const mapping = get('mapping')?.valueString;
  if (!mapping) throw badRequest('Parameter mapping (valueString: the column-mapping JSON) is required', 'required', ['Parameters.parameter']);
  return { csv: file, mapping, dryRun: get('dryRun')?.valueBoolean ?? query.dryRun?.[0] === 'true' };
}

const issuePart = (e: CsvRowError): ParametersParameter => ({
  name: 'issue',
  part: [
    { name: 'row', valueInteger: e.row },
    { name: 'line', valueInteger: e.line },
    ...(e.column ? [{ name: 'column', valueString: e.column }] : []),
    { name: 'message', valueString: e.message },
  ],
});

export const importCsv: Handler = async (req, ctx) => {
  const input = inputOf(req.body, req.query);
  const file = mapFile({ csv: input.csv, mapping: input.mapping, received: new Date().toISOString() });
  const errors = [...file.errors];
  let applied = 0;
  let unchanged = 0;
  if (!input.dryRun) {
    for (const r of file.rows) {
      try {
        const result = await applyAdapterBundle(req, ctx, r.bundle, r.source);
        if (result.duplicateOf) unchanged++;
        else applied++;
      } catch (err) {
        if (!(err instanceof FhirError) || err.status === 403) throw err;
        errors.push({ row: r.row, line: r.line, message: err.outcome.issue.map((i) => i.diagnostics).join('; ') });
      }
    }
    errors.sort((a, b) => a.row - b.row);
  }
  const rejectedRows = new Set(errors.filter((e) => e.row > 0).map((e) => e.row)).size;
  const summary = input.dryRun
    ? `${file.total} rows: ${file.rows.length} would be imported, ${rejectedRows} rejected (dry run: nothing was written)`
    : `${file.total} rows: ${applied} imported, ${unchanged} unchanged (imported before), ${rejectedRows} rejected`;
  const outcome = operationOutcome([
    { severity: 'information', code: 'informational', diagnostics: summary },
    ...errors.map((e) => ({ severity: 'error' as const, code: 'value' as const, diagnostics: describeError(e) })),
  ]);
  const parameter: ParametersParameter[] = [
    { name: 'rows', valueInteger: file.total },
    ...(input.dryRun ? [{ name: 'mapped', valueInteger: file.rows.length }] : [{ name: 'imported', valueInteger: applied }, { name: 'unchanged', valueInteger: unchanged }]),
    { name: 'rejected', valueInteger: rejectedRows },
    ...errors.map(issuePart),
    { name: 'outcome', resource: outcome },
    ...(input.dryRun ? file.rows.map((r) => ({ name: 'bundle', resource: r.bundle })) : []),
  ];
  return { status: 200, body: { resourceType: 'Parameters', parameter } satisfies Parameters };
};

export const importCsvOperation = defineOperation({
  code: 'import-csv',
  id: 'import-csv',
  title: 'Import an NGO clinic register (CSV)',
  description: 'Maps a CSV file with its column-mapping file to Patients, Encounters and ServiceRequests; each row in its own transaction.',
  levels: ['system'],
  affectsState: true,
  // each row is its own transaction (one bad row never blocks the others)
  notInTransaction: 'applies each row in its own transaction',
  bundleBody: true,
  parameters: [
    ...parametersOf('in', 'csv:base64Binary! mapping:string! dryRun:boolean', { csv: 'The file (valueBase64Binary, or valueString)', mapping: 'The column-mapping JSON' }),
    ...parametersOf('out', 'rows:integer! imported:integer unchanged:integer mapped:integer rejected:integer!'),
    {
      name: 'issue', use: 'out', min: 0, max: '*', part: [
        ...parametersOf('out', 'row:integer! line:integer! column:string message:string!'),
      ],
    },
    ...parametersOf('out', 'outcome:OperationOutcome! bundle:Bundle*'),
  ],
  handler: importCsv,
});
