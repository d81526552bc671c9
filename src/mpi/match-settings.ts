// The settings of Patient/$match: weights, word thresholds, blocking limits and the default
// grade thresholds from match-config.json. A deployment sets the thresholds with the server
// option --match-grades / MIGFHIR_MATCH_GRADES="certain=13,probable=8,possible=4" (src/config.ts;
// defaults and the precision/recall they give: docs/match.md). A bad value stops the server at
// start-up rather than grading silently.
import file from './match-config.json' with { type: 'json' };
import { checkDataFile } from '../schemas/check.ts';

export type MatchSettings = typeof file;
const config = checkDataFile<MatchSettings>(new URL('./match-config.json', import.meta.url), file, 'match-config');
export type GradeThresholds = MatchSettings['grades'];

/** Parses "certain=13,probable=8,possible=4" over the defaults; thresholds must descend. */
export function parseGrades(text: string, defaults: GradeThresholds = config.grades): GradeThresholds {
  const out = { ...defaults };
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    const [name, value] = part.split('=');
    if (!(name in out) || value === undefined || !/^-?\d+(\.\d+)?$/.test(value.trim())) {
      throw new Error(`expected certain=N,probable=N,possible=N, got '${part}'`);
    }
    out[name as keyof GradeThresholds] = Number(value);
  }
  if (!(out.certain > out.probable && out.probable > out.possible)) throw new Error('thresholds must satisfy certain > probable > possible');
  return out;
}

export const matchConfig: MatchSettings = config;
