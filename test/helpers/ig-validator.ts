// The server's validator with the IG's profiles loaded, for tests that check adapter output
// against MigrantPatient, MigrantEncounter and ReferralServiceRequest.
import { loadDefinitions } from '../../src/fhir/definitions.ts';
import { loadIgPackage } from '../../src/ig/package.ts';
import { Terminology } from '../../src/terminology/service.ts';
import { ValidationService } from '../../src/validation/service.ts';

let service: ValidationService | undefined;

function validation(): ValidationService {
  if (service) return service;
  const ig = loadIgPackage()!;
  const terminology = new Terminology();
  terminology.addPackage(ig);
  service = new ValidationService(terminology, loadDefinitions().resourceTypes, { modes: { default: 'off', types: {} } as never, mandatoryProfiles: {} });
  for (const sd of ig.structureDefinitions.values()) service.profiles.add(sd.url, sd);
  return service;
}

/** Errors (and fatal issues) of a resource against the profiles it declares, as "path: message".
 * Unknown extensions are judged as on write (--unknown-extensions warning, the default): the
 * adapters keep national extensions the IG does not define, and the server stores them. */
export function profileErrors(resource: unknown): string[] {
  return validation()
    .validate(resource, { unknownExtensions: 'warning' })
    .filter((i) => i.severity === 'error' || i.severity === 'fatal')
    .map((i) => `${i.expression?.[0]}: ${i.diagnostics}`);
}
