// The HTTP status of the FhirError a function throws (undefined when it returns, -1 for another
// error): for unit tests of the checks that answer 4xx.
import { FhirError } from '../../src/fhir/errors.ts';

export function thrownStatus(fn: () => unknown): number | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof FhirError ? err.status : -1;
  }
}
