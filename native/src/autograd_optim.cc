// Autograd controls, the optimiser update rules (one native call per step, not one per parameter), threads,
// seeding and what this libtorch build can do.
#include <ATen/Parallel.h>
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>

#include <cmath>

#include "handle.h"

namespace ts {

namespace {

// backward(loss, grad|null, retainGraph)
Napi::Value Backward(const Napi::CallbackInfo& info) {
  const at::Tensor& t = TensorArg(info, 0);
  at::Tensor grad = IsMissing(info, 1) ? at::Tensor() : TensorArg(info, 1);
  c10::optional<bool> retain;
  if (!IsMissing(info, 2)) retain = BoolArg(info, 2);
  t.backward(grad, retain, false);
  return info.Env().Undefined();
}

Napi::Value Grad(const Napi::CallbackInfo& info) { return WrapOptional(info.Env(), TensorArg(info, 0).grad()); }

Napi::Value RequiresGrad(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).requires_grad());
}

Napi::Value SetRequiresGrad(const Napi::CallbackInfo& info) {
  TensorArg(info, 0).requires_grad_(BoolArg(info, 1));
  return info.Env().Undefined();
}

Napi::Value IsLeaf(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_leaf());
}

// zeroGrads(params): drops the gradients (PyTorch's set_to_none), so the next backward allocates fresh ones.
Napi::Value ZeroGrads(const Napi::CallbackInfo& info) {
  for (auto& p : TensorListArg(info, 0)) p.mutable_grad().reset();
  return info.Env().Undefined();
}

// setGradEnabled(enabled) -> previous state. Grad mode is thread-local in libtorch; all our calls run on the
// JavaScript thread.
Napi::Value SetGradEnabled(const Napi::CallbackInfo& info) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(BoolArg(info, 0));
  return Napi::Boolean::New(info.Env(), previous);
}

// enterAutocast() -> whether autocast was on before. CPU autocast in bfloat16, as torch.autocast('cpu') does it:
// convolutions and matrix products run in bfloat16 on casts of their inputs (weights cast once per scope and
// cached), the operations that need float32's range stay in float32. Thread-local, like grad mode.
Napi::Value EnterAutocast(const Napi::CallbackInfo& info) {
  bool previous = at::autocast::is_cpu_enabled();
  at::autocast::set_cpu_enabled(true);
  at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
  at::autocast::increment_nesting();
  return Napi::Boolean::New(info.Env(), previous);
}

// exitAutocast(previous): leaving the outermost scope drops the cached bfloat16 weights, so that the next scope
// casts the weights as the optimiser has since changed them.
Napi::Value ExitAutocast(const Napi::CallbackInfo& info) {
  if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  at::autocast::set_cpu_enabled(BoolArg(info, 0));
  return info.Env().Undefined();
}

Napi::Value IsGradEnabled(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), c10::GradMode::is_enabled());
}

// adamStep(params, expAvg, expAvgSq, step, lr, beta1, beta2, eps, weightDecay, decoupled)
// PyTorch 1.13's single-tensor Adam / AdamW, operation for operation, so that results match torch.optim.
Napi::Value AdamStep(const Napi::CallbackInfo& info) {
  auto params = TensorListArg(info, 0);
  auto expAvg = TensorListArg(info, 1);
  auto expAvgSq = TensorListArg(info, 2);
  double step = NumberArg(info, 3), lr = NumberArg(info, 4), beta1 = NumberArg(info, 5), beta2 = NumberArg(info, 6);
  double eps = NumberArg(info, 7), weightDecay = NumberArg(info, 8);
  bool decoupled = BoolArg(info, 9);
  if (expAvg.size() != params.size() || expAvgSq.size() != params.size()) {
    throw std::invalid_argument("adamStep: state lists do not match the parameter list");
  }
  at::NoGradGuard noGrad;
  double biasCorrection1 = 1 - std::pow(beta1, step);
  double biasCorrection2Sqrt = std::sqrt(1 - std::pow(beta2, step));
  double stepSize = lr / biasCorrection1;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& param = params[i];
    at::Tensor grad = param.grad();
    if (!grad.defined()) continue;
    if (decoupled) {
      param.mul_(1 - lr * weightDecay);
    } else if (weightDecay != 0) {
      grad = grad.add(param, weightDecay);
    }
    expAvg[i].mul_(beta1).add_(grad, 1 - beta1);
    expAvgSq[i].mul_(beta2).addcmul_(grad, grad, 1 - beta2);
    auto denom = (expAvgSq[i].sqrt() / biasCorrection2Sqrt).add_(eps);
    param.addcdiv_(expAvg[i], denom, -stepSize);
  }
  return info.Env().Undefined();
}

// sgdStep(params, momentumBuffers, lr, momentum, dampening, weightDecay, nesterov, firstStep)
// PyTorch 1.13's single-tensor SGD; on the first step the buffer takes the gradient itself.
Napi::Value SgdStep(const Napi::CallbackInfo& info) {
  auto params = TensorListArg(info, 0);
  auto buffers = TensorListArg(info, 1);
  double lr = NumberArg(info, 2), momentum = NumberArg(info, 3), dampening = NumberArg(info, 4);
  double weightDecay = NumberArg(info, 5);
  bool nesterov = BoolArg(info, 6), firstStep = BoolArg(info, 7);
  if (momentum != 0 && buffers.size() != params.size()) {
    throw std::invalid_argument("sgdStep: momentum buffers do not match the parameter list");
  }
  at::NoGradGuard noGrad;
  for (size_t i = 0; i < params.size(); ++i) {
    auto& param = params[i];
    at::Tensor d = param.grad();
    if (!d.defined()) continue;
    if (weightDecay != 0) d = d.add(param, weightDecay);
    if (momentum != 0) {
      auto& buf = buffers[i];
      if (firstStep) {
        buf.copy_(d);
      } else {
        buf.mul_(momentum).add_(d, 1 - dampening);
      }
      d = nesterov ? d.add(buf, momentum) : buf;
    }
    param.add_(d, -lr);
  }
  return info.Env().Undefined();
}

// Gradient clipping by global L2 norm; returns the norm before clipping (torch.nn.utils.clip_grad_norm_).
Napi::Value ClipGradNorm(const Napi::CallbackInfo& info) {
  auto params = TensorListArg(info, 0);
  double maxNorm = NumberArg(info, 1);
  at::NoGradGuard noGrad;
  std::vector<at::Tensor> norms;
  for (auto& p : params) {
    if (p.grad().defined()) norms.push_back(p.grad().norm(2));
  }
  if (norms.empty()) return Napi::Number::New(info.Env(), 0);
  double total = at::stack(norms).norm(2).item<double>();
  double coef = maxNorm / (total + 1e-6);
  if (coef < 1) {
    for (auto& p : params) {
      if (p.grad().defined()) p.mutable_grad().mul_(coef);
    }
  }
  return Napi::Number::New(info.Env(), total);
}

Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  at::set_num_threads(static_cast<int>(IntArg(info, 0)));
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), at::get_num_threads()); }

Napi::Value ManualSeed(const Napi::CallbackInfo& info) {
  at::manual_seed(static_cast<uint64_t>(IntArg(info, 0)));
  return info.Env().Undefined();
}

Napi::Value CudaAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), at::hasCUDA()); }

Napi::Value CudaDeviceCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), at::hasCUDA() ? at::detail::getCUDAHooks().getNumGPUs() : 0);
}

Napi::Value BuildInfo(const Napi::CallbackInfo& info) {
  auto out = Napi::Object::New(info.Env());
  out.Set("version", TORCH_VERSION);
  out.Set("config", at::show_config());
  out.Set("parallel", at::get_parallel_info());
  return out;
}

}  // namespace

void RegisterAutogradOptim(Napi::Env env, Napi::Object exports) {
  TS_EXPORT(exports, "backward", Backward);
  TS_EXPORT(exports, "grad", Grad);
  TS_EXPORT(exports, "requiresGrad", RequiresGrad);
  TS_EXPORT(exports, "setRequiresGrad", SetRequiresGrad);
  TS_EXPORT(exports, "isLeaf", IsLeaf);
  TS_EXPORT(exports, "zeroGrads", ZeroGrads);
  TS_EXPORT(exports, "setGradEnabled", SetGradEnabled);
  TS_EXPORT(exports, "isGradEnabled", IsGradEnabled);
  TS_EXPORT(exports, "enterAutocast", EnterAutocast);
  TS_EXPORT(exports, "exitAutocast", ExitAutocast);
  TS_EXPORT(exports, "adamStep", AdamStep);
  TS_EXPORT(exports, "sgdStep", SgdStep);
  TS_EXPORT(exports, "clipGradNorm", ClipGradNorm);
  TS_EXPORT(exports, "setNumThreads", SetNumThreads);
  TS_EXPORT(exports, "getNumThreads", GetNumThreads);
  TS_EXPORT(exports, "manualSeed", ManualSeed);
  TS_EXPORT(exports, "cudaAvailable", CudaAvailable);
  TS_EXPORT(exports, "cudaDeviceCount", CudaDeviceCount);
  TS_EXPORT(exports, "buildInfo", BuildInfo);
}

}  // namespace ts
