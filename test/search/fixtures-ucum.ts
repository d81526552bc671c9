// The `ucum` fixture set (cases.ts, group 'UCUM canonical'): the same quantities written in
// different units, units UCUM cannot compare linearly (Cel, [degF], annotations, arbitrary units)
// and quantities outside UCUM. Canonical values (g, g.m-3, m-1.s-2.g …) are given next to each
// resource so that the cases' expected ids can be checked by hand.
import type { Observation, Resource } from 'fhir/r4.js';

const UCUM = 'http://unitsofmeasure.org';
const LOINC = 'http://loinc.org';

function obs(id: string, loinc: string, extra: Partial<Observation>): Observation {
  return { resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: LOINC, code: loinc }] }, ...extra };
}

const q = (value: number, code: string, system = UCUM) => ({ value, unit: code, system, code });

function bp(id: string, systolic: number, diastolic: number, code: string): Observation {
  return obs(id, '85354-9', {
    component: [
      { code: { coding: [{ system: LOINC, code: '8480-6' }] }, valueQuantity: q(systolic, code) },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: q(diastolic, code) },
    ],
  });
}

export function ucumFixtures(): Resource[] {
  return [
    // body weight (29463-7), canonical unit g
    obs('u-weight-kg', '29463-7', { valueQuantity: q(72.5, 'kg') }), // 72500 g, range [72450, 72550)
    obs('u-weight-g', '29463-7', { valueQuantity: q(68000, 'g') }), // 68000 g
    obs('u-weight-lb', '29463-7', { valueQuantity: q(160, '[lb_av]') }), // 72574.7792 g
    // the same number and code as u-weight-kg, in a system that is not UCUM: never converted
    obs('u-weight-local', '29463-7', { valueQuantity: q(72.5, 'kg', 'http://example.org/fhir/units') }),
    // no system, so no code either (qty-3), only the unit text: number||unit finds it, as written
    obs('u-weight-nosystem', '29463-7', { valueQuantity: { value: 72500, unit: 'g' } }),
    // not a UCUM code (UCUM's is kg): compared as written only
    obs('u-weight-badcode', '29463-7', { valueQuantity: q(72.5, 'kilogram') }),
    // glucose, mass concentration (2345-7), canonical unit m-3.g: both 1100 g/m3
    obs('u-glucose-mgdl', '2345-7', { valueQuantity: q(110, 'mg/dL') }),
    obs('u-glucose-gl', '2345-7', { valueQuantity: q(1.1, 'g/L') }),
    // substance concentration (15074-8): m-3 (UCUM's mol is the number 6.0221367e23), never a mass
    obs('u-glucose-mmol', '15074-8', { valueQuantity: q(6.1, 'mmol/L') }),
    // oxygen saturation: % is dimensionless, canonical unit 1 (97 % = 0.97)
    obs('u-spo2', '59408-5', { valueQuantity: q(97, '%') }),
    // temperatures: Cel and [degF] have offsets (not converted); K is a base unit
    obs('u-temp-cel', '8310-5', { valueQuantity: q(39, 'Cel') }),
    obs('u-temp-degf', '8310-5', { valueQuantity: q(102.2, '[degF]') }),
    obs('u-temp-k', '8310-5', { valueQuantity: q(312.15, 'K') }),
    // annotation and arbitrary units: no canonical form
    obs('u-score', '72133-2', { valueQuantity: q(7, '{score}') }),
    obs('u-iu', '2986-8', { valueQuantity: q(5, 'm[IU]/L') }),
    // blood pressure components, canonical unit m-1.s-2.g (1 mm[Hg] = 133322, 1 kPa = 1e6):
    // 130 mm[Hg] = 17331860 (17.33 kPa), 85 mm[Hg] = 11332370 (11.33 kPa); 16 kPa = 120.01 mm[Hg]
    bp('u-bp-mmhg', 130, 85, 'mm[Hg]'),
    bp('u-bp-kpa', 16, 10, 'kPa'),
  ];
}
