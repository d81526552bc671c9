// Builds the compact R4 lookup tables from hl7.fhir.r4.examples into node_modules/.cache so the
// first server start does not pay for it (npm runs this as `prepare` after install).
import { loadDefinitions } from '../src/fhir/definitions.ts';

const t0 = performance.now();
const defs = loadDefinitions();
console.log(
  `migfhir: R4 tables ready (${defs.resourceTypes.length} resource types, ${defs.searchParameters.length} search parameters) in ${Math.round(performance.now() - t0)} ms`,
);
