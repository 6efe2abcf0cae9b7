// tumorscope's engine: tensors, autograd, modules, optimisers and weights on libtorch. The one entry point the
// rest of the code base imports (the addon itself stays behind native.ts).
import { initRuntime } from './runtime.ts';

initRuntime();

export { autocast, enableGrad, isGradEnabled, noGrad } from './autograd.ts';
export * from './creation.ts';
export { DistributedError, type GroupOptions, glooDevice, ProcessGroup } from './distributed.ts';
export type { DType, TypedArray } from './dtype.ts';
export * as F from './functional.ts';
export { gradCheck } from './gradcheck.ts';
export { FileWriteError, writeFileAtomic, writeJsonAtomic } from './io/atomic.ts';
export { portablePaths } from './io/portable-paths.ts';
export {
  decodeSafetensors,
  encodeSafetensors,
  loadSafetensors,
  SafetensorsError,
  saveHalfPrecisionCopy,
  saveSafetensors,
} from './io/safetensors.ts';
export { StagedFiles } from './io/staged-files.ts';
export { loadWeightsInto, modelPaths, readModelConfig, saveModel } from './io/weights.ts';
export { BatchNorm2d } from './nn/batchnorm.ts';
export { ModuleList, Sequential } from './nn/container.ts';
export { Conv2d, ConvTranspose2d } from './nn/conv.ts';
export * as init from './nn/init.ts';
export {
  AdaptiveAvgPool2d,
  AvgPool2d,
  Dropout,
  Flatten,
  Identity,
  LeakyReLU,
  MaxPool2d,
  ReLU,
  Sigmoid,
  Upsample,
} from './nn/layers.ts';
export { Linear } from './nn/linear.ts';
export { type LoadReport, Module, type StateDict, StateDictError } from './nn/module.ts';
export { Adam, AdamW } from './optim/adam.ts';
export {
  CosineAnnealingLR,
  type LrScheduler,
  ReduceLROnPlateau,
  StepLR,
  WarmupLR,
} from './optim/lr-scheduler.ts';
export { Optimizer, type OptimizerState } from './optim/optimizer.ts';
export { SGD } from './optim/sgd.ts';
export { focalTverskyLoss, softConfusion, softDiceLoss, tverskyIndex } from './overlap.ts';
export {
  buildInfo,
  cuda,
  defaultDevice,
  defaultThreads,
  getNumThreads,
  manualSeed,
  setNumThreads,
} from './runtime.ts';
export { dispose, keep, release, scopeDepth, tidy } from './scope.ts';
export { type Device, Tensor } from './tensor.ts';
