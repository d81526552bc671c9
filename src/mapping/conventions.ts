// Bundle.entry extensions by which an adapter tells src/mapping/apply.ts how to apply an entry.
// A plain FHIR server ignores them and performs the entry's conditional update as written.

/** valueCode 'merge' (update the match, or create) or 'merged-record' (a merge's prior record: updated when stored, else recorded as given, without
 * following its replaced-by link, which would lead to the survivor itself). */
export const WRITE_MODE = 'https://migfhir.org/fhir/StructureDefinition/adapter-write-mode';
/** valueString: a top-level element the source explicitly deleted (HL7 v2 "" null). */
export const REMOVE = 'https://migfhir.org/fhir/StructureDefinition/adapter-remove-element';
