// The HTTP load of the benchmarks: autocannon as a promise, and the row each report prints for a
// scenario, so every bench measures and reports a run the same way.
import autocannon from 'autocannon';

export type LoadResult = autocannon.Result;

/** one autocannon run against a server in another process */
export function loadRun(opts: autocannon.Options): Promise<LoadResult> {
  return new Promise((resolve, reject) => autocannon(opts, (err, res) => (err ? reject(err) : resolve(res))));
}

export interface ScenarioRow {
  scenario: string;
  rps: number;
  p50: number;
  p97_5: number;
  p99: number;
  errors: number;
}

/** a scenario's figures for a report: requests/s, latency percentiles in ms, failed requests */
export function scenarioRow(scenario: string, r: LoadResult): ScenarioRow {
  return { scenario, rps: Math.round(r.requests.average), p50: r.latency.p50, p97_5: r.latency.p97_5, p99: r.latency.p99, errors: r.errors + r.non2xx };
}
