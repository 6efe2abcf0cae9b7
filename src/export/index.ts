// Exporting trained models to other runtimes: ONNX for now (onnxruntime in Node and in the browser).
export { exportModelToOnnx, modelMetadata } from './onnx/export-model.ts';
export {
  CLASSIFIER_OUTPUT,
  exportNetworkToOnnx,
  INPUT_NAME,
  type NetworkExport,
  OPSET,
  SEGMENTER_OUTPUT,
} from './onnx/export-network.ts';
export { encodeMetadata, readOnnxMetadata, readOnnxMetadataProps } from './onnx/metadata.ts';
export { TUMORSCOPE_VERSION } from './version.ts';
