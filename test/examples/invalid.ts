// Instances of the official R4 package that break R4's own rules, each with the reason; the
// server rightly refuses them (round-trip.test.ts) and the validator reports them.
export const GENUINELY_INVALID: Record<string, string> = {
  'SearchParameter-codesystem-extensions-CodeSystem-author.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-codesystem-extensions-CodeSystem-effective.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-codesystem-extensions-CodeSystem-end.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-codesystem-extensions-CodeSystem-keyword.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-codesystem-extensions-CodeSystem-workflow.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-valueset-extensions-ValueSet-author.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-valueset-extensions-ValueSet-effective.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-valueset-extensions-ValueSet-end.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-valueset-extensions-ValueSet-keyword.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-valueset-extensions-ValueSet-workflow.json': 'SearchParameter.base is required (1..*) and missing',
  'SearchParameter-questionnaireresponse-extensions-QuestionnaireResponse-item-subject.json': 'its id has 67 characters; R4 ids have at most 64',
  'ImplementationGuide-fhir.json': 'the build-time IG of the spec itself lacks the required name and status',
  'ig-r4.json': 'the same ImplementationGuide, lacking the required name and status',
  // found by the profile validator (validation on write, the default)
  'CodeSystem-v2-0550.json': "codes 'CHEST\\u00a0 ' and others end in a no-break space or space: not a valid code",
  'DeviceMetric-example.json': 'DeviceMetric.parent refers to a DeviceDefinition; R4 allows Reference(Device) only',
  'DeviceUseStatement-example.json': 'reasonReference refers to a Procedure; R4 allows Condition, Observation, DiagnosticReport, DocumentReference, Media',
  'MedicationRequest-medrx0301.json': 'dispenseRequest.performer refers to a Practitioner; R4 allows Reference(Organization) only',
  'Observation-clinical-gender.json': 'performer refers to an Encounter, which is not a valid performer',
  'Questionnaire-qs1.json': 'nested items have no linkId (Questionnaire.item.linkId is 1..1)',
  'StructureDefinition-Definition.json': 'sdf-4: not abstract, yet no baseDefinition (a logical pattern model of the build)',
  'StructureDefinition-Event.json': 'sdf-4: not abstract, yet no baseDefinition (a logical pattern model of the build)',
  'StructureDefinition-FiveWs.json': 'sdf-4: not abstract, yet no baseDefinition (a logical pattern model of the build)',
  'StructureDefinition-Request.json': 'sdf-4: not abstract, yet no baseDefinition (a logical pattern model of the build)',
};
