// Every operation this server offers, each declared in its own file (src/operations/types.ts).
// src/rest/route-table.ts routes them; adding an operation is one file and one line here.
import { bulkImportOperation } from './bulk-import.ts';
import { everythingOperation } from './everything.ts';
import { exportOperation, groupExportOperation, patientExportOperation } from './export.ts';
import { hl7v2ExportOperation } from './hl7v2-export.ts';
import { hl7v2IngestOperation } from './hl7v2-ingest.ts';
import { importCsvOperation } from './import-csv.ts';
import { importSummaryOperation } from './import-summary.ts';
import { inboundMessagesOperation } from './inbound-messages.ts';
import { matchOperation } from './match.ts';
import { mergeOperation } from './merge.ts';
import { metaAddOperation, metaDeleteOperation, metaOperation } from './meta.ts';
import { exportNationalOperation, importNationalOperation } from './national.ts';
import { reindexOperation } from './reindex.ts';
import { scoreOperation } from './score.ts';
import { snapshotOperation } from './snapshot.ts';
import { summaryOperation } from './summary.ts';
import { codeSystemValidateCodeOperation, expandOperation, lookupOperation, subsumesOperation, translateOperation, valueSetValidateCodeOperation } from './terminology.ts';
import type { OperationSpec } from './types.ts';
import { validateOperation } from './validate.ts';

export const OPERATION_SPECS: readonly OperationSpec[] = [
  everythingOperation,
  summaryOperation,
  matchOperation,
  mergeOperation,
  validateOperation,
  snapshotOperation,
  metaOperation,
  metaAddOperation,
  metaDeleteOperation,
  expandOperation,
  lookupOperation,
  valueSetValidateCodeOperation,
  codeSystemValidateCodeOperation,
  translateOperation,
  subsumesOperation,
  scoreOperation,
  reindexOperation,
  importSummaryOperation,
  importNationalOperation,
  exportNationalOperation,
  importCsvOperation,
  hl7v2IngestOperation,
  hl7v2ExportOperation,
  inboundMessagesOperation,
  exportOperation,
  patientExportOperation,
  groupExportOperation,
  bulkImportOperation,
];
