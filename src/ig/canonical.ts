// The one canonical base of the migrant-health implementation guide and the metadata every
// conformance resource of it shares. Sources (profiles/, terminology/), the build script and the
// server all take it from here, so a change of base is one line.
export const CANONICAL = 'https://migfhir.org/fhir';

export const IG = {
  packageId: 'migfhir.fhir.ig',
  version: '0.1.0',
  name: 'MigrantHealthIG',
  title: 'migfhir Migrant and Refugee Health Implementation Guide',
  publisher: 'migfhir project',
  /** fixed so that a rebuild of unchanged sources gives the same bytes */
  date: '2026-11-30',
  fhirVersion: '4.0.1',
  license: 'Apache-2.0',
} as const;

/** The shared metadata of a conformance resource: url, version, name, status, publisher. */
export function meta(type: string, id: string, name: string, description: string, title?: string) {
  return {
    resourceType: type,
    id,
    url: `${CANONICAL}/${type}/${id}`,
    version: IG.version,
    name,
    ...(title ? { title } : {}),
    status: 'draft' as const,
    experimental: false,
    date: IG.date,
    publisher: IG.publisher,
    contact: [{ name: IG.publisher, telecom: [{ system: 'url' as const, value: CANONICAL }] }],
    description,
    jurisdiction: [{ coding: [{ system: 'http://unstats.un.org/unsd/methods/m49/m49.htm', code: '150', display: 'Europe' }] }],
  };
}

export const sid = (name: string) => `${CANONICAL}/sid/${name}`;
export const cs = (id: string) => `${CANONICAL}/CodeSystem/${id}`;
export const vs = (id: string) => `${CANONICAL}/ValueSet/${id}`;
export const sd = (id: string) => `${CANONICAL}/StructureDefinition/${id}`;
