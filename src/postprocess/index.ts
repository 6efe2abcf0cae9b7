// Post-processing of the segmenter's output: threshold, removal of small 2-D components, the largest
// 3-D component per patient volume, test-time augmentation by flips, and choosing all of them on validation.
// Masks are Uint8Array (any non-zero is tumour; outputs are 0/1), volumes D×H×W with a patient's slices in order.
export { applyPostprocess, postprocessMask } from './apply.ts';
export {
  type CandidateScore,
  choosePostprocess,
  choosePostprocessAndTta,
  DEFAULT_POSTPROCESS_GRID,
  DICE_TIE_TOLERANCE,
  type PostprocessChoice,
  type PostprocessGrid,
  pickBest,
  postprocessGridSchema,
  type ValidationVolume,
} from './choose.ts';
export {
  type Connectivity2D,
  componentsOfAtLeast,
  labelComponents2D,
  labelSliceComponents,
  removeSmallComponents,
  removeSmallSliceComponents,
} from './components-2d.ts';
export { type Connectivity3D, keepLargest3DComponent, labelComponents3D } from './components-3d.ts';
export {
  NO_POSTPROCESS,
  type PostprocessConfig,
  parsePostprocessConfig,
  postprocessConfigSchema,
  stepsOn,
  type TtaMode,
  ttaModes,
} from './config.ts';
export type { Components } from './label-components.ts';
export { threshold } from './threshold.ts';
export {
  flipPlanes,
  type ProbabilityNetwork,
  probabilitiesWithTta,
  probabilitiesWithTtaSync,
} from './tta.ts';
