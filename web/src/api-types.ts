// The shapes of the tumorscope HTTP API (`tumorscope serve`) as the viewer reads them: types only, inferred from
// the server's own zod schemas, so that the page and the server cannot drift apart. The in-browser backend
// (onnx-backend.ts) returns the same shapes.
export type {
  BoundingBox,
  PatientPrediction as PatientSummary,
  PredictResponse,
  SliceResult as SlicePrediction,
} from '../../src/inference/prediction-schema.ts';
export type { Health, ModelInfo, ModelsInfo, QueueState } from '../../src/server/api-schema.ts';
