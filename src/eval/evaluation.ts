// Both JSON files of an evaluation from one list of slice records: what `tumorscope evaluate` writes.
import { buildCurvesJson, type CurvesJson } from './curves-json.ts';
import { buildMetricsJson, type MetricsInput, type MetricsJson } from './metrics-json.ts';

export interface Evaluation {
  metrics: MetricsJson;
  curves: CurvesJson;
}

export function buildEvaluation(input: MetricsInput): Evaluation {
  return { metrics: buildMetricsJson(input), curves: buildCurvesJson(input.slices) };
}
