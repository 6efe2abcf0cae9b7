// Shared plumbing of the binding: how a libtorch tensor travels to JavaScript and back, how arguments are read,
// and how libtorch's C++ exceptions become JavaScript errors instead of crashing the process.
#pragma once

#include <ATen/ATen.h>
#include <napi.h>

#include <string>
#include <vector>

namespace ts {

// A tensor handed to JavaScript: a heap cell owned by a napi External. dispose() empties the cell at once (freeing
// libtorch's storage if nothing else holds it); the GC later frees only the empty cell, or the whole tensor if
// nobody disposed it. Tensor sizes are deliberately not reported to V8 (AdjustExternalMemory): activations of
// hundreds of MB per step made V8 run several full collections per training step, on the cores libtorch needs.
struct TensorCell {
  at::Tensor tensor;
};

Napi::Value Wrap(Napi::Env env, at::Tensor tensor);
Napi::Value WrapOptional(Napi::Env env, const at::Tensor& tensor);  // undefined tensor -> null
Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors);
void Dispose(TensorCell* cell);

// Argument readers: each names the argument position in its TypeError.
TensorCell* CellArg(const Napi::CallbackInfo& info, size_t i);
const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<at::Tensor> OptionalTensorArg(const Napi::CallbackInfo& info, size_t i);
std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i);
std::vector<int64_t> IntsArg(const Napi::CallbackInfo& info, size_t i);
c10::optional<std::vector<int64_t>> OptionalIntsArg(const Napi::CallbackInfo& info, size_t i);
double NumberArg(const Napi::CallbackInfo& info, size_t i);
// A JavaScript number as a libtorch Scalar: integral values become int64 so that integer tensors stay integer.
at::Scalar ScalarArg(const Napi::CallbackInfo& info, size_t i);
int64_t IntArg(const Napi::CallbackInfo& info, size_t i);
bool BoolArg(const Napi::CallbackInfo& info, size_t i);
std::string StringArg(const Napi::CallbackInfo& info, size_t i);
bool IsMissing(const Napi::CallbackInfo& info, size_t i);

at::ScalarType ParseDtype(const std::string& name);
std::string DtypeName(at::ScalarType type);
c10::Device ParseDevice(const std::string& name);
int64_t ParseReduction(const std::string& name);

// Runs a binding body, turning c10::Error and std::exception into a JavaScript Error with libtorch's message.
template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value Guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const c10::Error& e) {
    throw Napi::Error::New(info.Env(), e.what_without_backtrace());
  } catch (const std::exception& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
}

#define TS_EXPORT(exports, name, fn) \
  (exports).Set(name, Napi::Function::New<::ts::Guarded<fn>>((exports).Env(), name))

void RegisterCreation(Napi::Env env, Napi::Object exports);
void RegisterMathOps(Napi::Env env, Napi::Object exports);
void RegisterNnOps(Napi::Env env, Napi::Object exports);
void RegisterAutogradOptim(Napi::Env env, Napi::Object exports);

}  // namespace ts
