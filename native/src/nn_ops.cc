// Neural-network ops and losses (the torch.nn.functional surface that DenseNet121, U-Nets and their losses use).
#include "handle.h"

namespace ts {

namespace {

// conv2d(x, weight, bias|null, stride, padding, dilation, groups)
Napi::Value Conv2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::conv2d(TensorArg(info, 0), TensorArg(info, 1), OptionalTensorArg(info, 2),
                                     IntsArg(info, 3), IntsArg(info, 4), IntsArg(info, 5), IntArg(info, 6)));
}

// onednnConv2d(x, weight, bias|null, stride, padding, dilation, groups): the convolution straight through oneDNN
// (at::mkldnn_convolution), for inference. at::conv2d picks its kernel by heuristic and, with one thread and
// fewer than 16 images, sends every 1×1 convolution (and, at batch 1, the 3×3 ones on small maps) to its
// im2col/BLAS path, which on channels-last activations also copies them to NCHW and back. Float32 CPU tensors
// only; the output keeps the input's layout (channels-last in, channels-last out).
Napi::Value OnednnConv2d(const Napi::CallbackInfo& info) {
  if (!at::hasMKLDNN()) throw std::runtime_error("onednnConv2d: this libtorch was built without oneDNN");
  const at::Tensor& x = TensorArg(info, 0);
  const at::Tensor& w = TensorArg(info, 1);
  if (!x.device().is_cpu() || x.scalar_type() != at::kFloat || !w.device().is_cpu() || w.scalar_type() != at::kFloat)
    throw std::invalid_argument("onednnConv2d: float32 CPU tensors only");
  return Wrap(info.Env(), at::mkldnn_convolution(x, w, OptionalTensorArg(info, 2), IntsArg(info, 4), IntsArg(info, 3),
                                                 IntsArg(info, 5), IntArg(info, 6)));
}

// convTranspose2d(x, weight, bias|null, stride, padding, outputPadding, groups, dilation)
Napi::Value ConvTranspose2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(),
              at::conv_transpose2d(TensorArg(info, 0), TensorArg(info, 1), OptionalTensorArg(info, 2), IntsArg(info, 3),
                                   IntsArg(info, 4), IntsArg(info, 5), IntArg(info, 6), IntsArg(info, 7)));
}

// batchNorm(x, weight|null, bias|null, runningMean|null, runningVar|null, training, momentum, eps)
// In training mode libtorch updates the running statistics in place, as PyTorch's BatchNorm2d does.
Napi::Value BatchNorm(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::batch_norm(TensorArg(info, 0), OptionalTensorArg(info, 1), OptionalTensorArg(info, 2),
                                         OptionalTensorArg(info, 3), OptionalTensorArg(info, 4), BoolArg(info, 5),
                                         NumberArg(info, 6), NumberArg(info, 7), /*cudnn_enabled=*/true));
}

Napi::Value Linear(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::linear(TensorArg(info, 0), TensorArg(info, 1), OptionalTensorArg(info, 2)));
}

Napi::Value Relu(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::relu(TensorArg(info, 0))); }
// In place, as torchvision's nn.ReLU(inplace=True): no new activation to allocate and fill. Autograd allows it
// where the overwritten input is not needed for backward (after batch norm, for instance) and says so otherwise.
Napi::Value Relu_(const Napi::CallbackInfo& info) {
  TensorArg(info, 0).relu_();
  return info.Env().Undefined();
}
Napi::Value Sigmoid(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::sigmoid(TensorArg(info, 0))); }
Napi::Value Tanh(const Napi::CallbackInfo& info) { return Wrap(info.Env(), at::tanh(TensorArg(info, 0))); }
Napi::Value LeakyRelu(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::leaky_relu(TensorArg(info, 0), NumberArg(info, 1)));
}
Napi::Value Softmax(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::softmax(TensorArg(info, 0), IntArg(info, 1)));
}
Napi::Value LogSoftmax(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::log_softmax(TensorArg(info, 0), IntArg(info, 1)));
}

// maxPool2d(x, kernel, stride, padding, dilation, ceilMode)
Napi::Value MaxPool2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::max_pool2d(TensorArg(info, 0), IntsArg(info, 1), IntsArg(info, 2), IntsArg(info, 3),
                                         IntsArg(info, 4), BoolArg(info, 5)));
}

// avgPool2d(x, kernel, stride, padding, ceilMode, countIncludePad)
Napi::Value AvgPool2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::avg_pool2d(TensorArg(info, 0), IntsArg(info, 1), IntsArg(info, 2), IntsArg(info, 3),
                                         BoolArg(info, 4), BoolArg(info, 5)));
}

Napi::Value AdaptiveAvgPool2d(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::adaptive_avg_pool2d(TensorArg(info, 0), IntsArg(info, 1)));
}

// interpolate(x, size [h, w], mode 'nearest' | 'bilinear', alignCorners)
Napi::Value Interpolate(const Napi::CallbackInfo& info) {
  const at::Tensor& x = TensorArg(info, 0);
  auto size = IntsArg(info, 1);
  auto mode = StringArg(info, 2);
  if (mode == "nearest") return Wrap(info.Env(), at::upsample_nearest2d(x, size));
  if (mode == "bilinear") return Wrap(info.Env(), at::upsample_bilinear2d(x, size, BoolArg(info, 3)));
  throw std::invalid_argument("interpolate: unknown mode '" + mode + "' (nearest or bilinear)");
}

Napi::Value Dropout(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::dropout(TensorArg(info, 0), NumberArg(info, 1), BoolArg(info, 2)));
}

// pad(x, [left, right, top, bottom], mode 'constant' | 'reflect' | 'replicate', value)
Napi::Value Pad(const Napi::CallbackInfo& info) {
  const at::Tensor& x = TensorArg(info, 0);
  auto pads = IntsArg(info, 1);
  auto mode = StringArg(info, 2);
  if (mode == "constant") return Wrap(info.Env(), at::constant_pad_nd(x, pads, NumberArg(info, 3)));
  if (mode == "reflect") return Wrap(info.Env(), at::reflection_pad2d(x, pads));
  if (mode == "replicate") return Wrap(info.Env(), at::replication_pad2d(x, pads));
  throw std::invalid_argument("pad: unknown mode '" + mode + "' (constant, reflect or replicate)");
}

// affineGrid(theta [N,2,3], size [N,C,H,W], alignCorners) and gridSample(x, grid, mode, padding, alignCorners):
// geometric augmentation (rotation, scale) of images and masks with one shared transform.
Napi::Value AffineGrid(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::affine_grid_generator(TensorArg(info, 0), IntsArg(info, 1), BoolArg(info, 2)));
}

Napi::Value GridSample(const Napi::CallbackInfo& info) {
  auto mode = StringArg(info, 2);
  auto padding = StringArg(info, 3);
  int64_t modeId = mode == "bilinear" ? 0 : mode == "nearest" ? 1 : -1;
  int64_t paddingId = padding == "zeros" ? 0 : padding == "border" ? 1 : padding == "reflection" ? 2 : -1;
  if (modeId < 0) throw std::invalid_argument("gridSample: unknown mode '" + mode + "' (bilinear or nearest)");
  if (paddingId < 0) throw std::invalid_argument("gridSample: unknown padding '" + padding + "'");
  return Wrap(info.Env(),
              at::grid_sampler(TensorArg(info, 0), TensorArg(info, 1), modeId, paddingId, BoolArg(info, 4)));
}

// crossEntropy(logits [N,C,...], target int64 [N,...], weight|null, reduction, labelSmoothing)
Napi::Value CrossEntropy(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::cross_entropy_loss(TensorArg(info, 0), TensorArg(info, 1), OptionalTensorArg(info, 2),
                                                 ParseReduction(StringArg(info, 3)), -100, NumberArg(info, 4)));
}

// bceWithLogits(logits, target, weight|null, posWeight|null, reduction)
Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::binary_cross_entropy_with_logits(TensorArg(info, 0), TensorArg(info, 1),
                                                               OptionalTensorArg(info, 2), OptionalTensorArg(info, 3),
                                                               ParseReduction(StringArg(info, 4))));
}

Napi::Value MseLoss(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(),
              at::mse_loss(TensorArg(info, 0), TensorArg(info, 1), ParseReduction(StringArg(info, 2))));
}

Napi::Value NllLoss(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::nll_loss_nd(TensorArg(info, 0), TensorArg(info, 1), OptionalTensorArg(info, 2),
                                          ParseReduction(StringArg(info, 3)), -100));
}

}  // namespace

void RegisterNnOps(Napi::Env env, Napi::Object exports) {
  TS_EXPORT(exports, "conv2d", Conv2d);
  TS_EXPORT(exports, "onednnConv2d", OnednnConv2d);
  TS_EXPORT(exports, "convTranspose2d", ConvTranspose2d);
  TS_EXPORT(exports, "batchNorm", BatchNorm);
  TS_EXPORT(exports, "linear", Linear);
  TS_EXPORT(exports, "relu", Relu);
  TS_EXPORT(exports, "relu_", Relu_);
  TS_EXPORT(exports, "sigmoid", Sigmoid);
  TS_EXPORT(exports, "tanh", Tanh);
  TS_EXPORT(exports, "leakyRelu", LeakyRelu);
  TS_EXPORT(exports, "softmax", Softmax);
  TS_EXPORT(exports, "logSoftmax", LogSoftmax);
  TS_EXPORT(exports, "maxPool2d", MaxPool2d);
  TS_EXPORT(exports, "avgPool2d", AvgPool2d);
  TS_EXPORT(exports, "adaptiveAvgPool2d", AdaptiveAvgPool2d);
  TS_EXPORT(exports, "interpolate", Interpolate);
  TS_EXPORT(exports, "dropout", Dropout);
  TS_EXPORT(exports, "pad", Pad);
  TS_EXPORT(exports, "affineGrid", AffineGrid);
  TS_EXPORT(exports, "gridSample", GridSample);
  TS_EXPORT(exports, "crossEntropy", CrossEntropy);
  TS_EXPORT(exports, "bceWithLogits", BceWithLogits);
  TS_EXPORT(exports, "mseLoss", MseLoss);
  TS_EXPORT(exports, "nllLoss", NllLoss);
}

}  // namespace ts
