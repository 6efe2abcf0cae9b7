// The shapes of the tumorscope HTTP API (`tumorscope serve`), as the viewer reads them. Kept apart from the
// transport so that another inference backend (e.g. in-browser onnxruntime-web) can return the same shapes.

export interface QueueState {
  running: number;
  waiting: number;
  limit: number;
}

export interface Health {
  status: 'ok' | string;
  queue: QueueState;
}

/** One model as /api/models describes it; `card` holds its test metrics when known. */
export interface ModelInfo {
  name: string;
  architecture: string;
  /** The size slices are resized to before the network sees them. */
  inputSize: { width: number; height: number };
  threshold: number;
  postprocess?: unknown;
  card?: Record<string, unknown> | null;
}

export interface ModelsInfo {
  classifier: ModelInfo;
  segmenter: ModelInfo;
}

export interface BoundingBox {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface SlicePrediction {
  name: string;
  patient: string;
  /** Slice number parsed from `<PATIENT>_<n>.tif`. */
  slice: number;
  width: number;
  height: number;
  /** Classifier P(tumour). */
  probability: number;
  tumour: boolean;
  areaPixels: number;
  bbox: BoundingBox | null;
  /** 0/255 grayscale PNG at the image's size, as a data URL; null when no tumour was found. */
  mask: string | null;
  /** The slice as a PNG data URL (requested with include=image). */
  image?: string | null;
}

export interface PatientSummary {
  patient: string;
  slices: number;
  positiveSlices: number;
  firstPositiveSlice: number | null;
  lastPositiveSlice: number | null;
  volumeVoxels: number;
}

export interface PredictResponse {
  notice: string;
  /** The models' names (their details come from /api/models). */
  models: { classifier: string; segmenter: string };
  patients: PatientSummary[];
  slices: SlicePrediction[];
}
