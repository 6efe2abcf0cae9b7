// Importing published ImageNet weights into tumorscope's DenseNet (transfer learning).
export {
  BATCH_NORM_EPS,
  IMAGENET_NORMALIZATION,
  type ImportOptions,
  type ImportReport,
  type InputNormalization,
  importPretrained,
  type PretrainedFormat,
} from './import-pretrained.ts';
export { WeightsFileError } from './weights-file-error.ts';
