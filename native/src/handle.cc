#include "handle.h"

#include <cmath>
#include <unordered_map>

namespace ts {

namespace {

// Tags our Externals so that a foreign External (or a forged object) is refused instead of dereferenced.
constexpr napi_type_tag kTensorTag = {0x7475'6d6f'7273'636fULL, 0x7065'2d74'656e'736fULL};

void Finalize(Napi::Env, TensorCell* cell) { delete cell; }

Napi::TypeError ArgError(const Napi::CallbackInfo& info, size_t i, const char* expected) {
  return Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected " + expected);
}

}  // namespace

Napi::Value Wrap(Napi::Env env, at::Tensor tensor) {
  auto* cell = new TensorCell{std::move(tensor)};
  auto external = Napi::External<TensorCell>::New(env, cell, Finalize);
  external.TypeTag(&kTensorTag);
  return external;
}

Napi::Value WrapOptional(Napi::Env env, const at::Tensor& tensor) {
  if (!tensor.defined()) return env.Null();
  return Wrap(env, tensor);
}

Napi::Array WrapList(Napi::Env env, const std::vector<at::Tensor>& tensors) {
  auto out = Napi::Array::New(env, tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) out.Set(static_cast<uint32_t>(i), Wrap(env, tensors[i]));
  return out;
}

void Dispose(TensorCell* cell) { cell->tensor.reset(); }

TensorCell* CellArg(const Napi::CallbackInfo& info, size_t i) {
  auto v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<TensorCell>>().CheckTypeTag(&kTensorTag)) {
    throw ArgError(info, i, "a tensor handle");
  }
  return v.As<Napi::External<TensorCell>>().Data();
}

const at::Tensor& TensorArg(const Napi::CallbackInfo& info, size_t i) {
  auto* cell = CellArg(info, i);
  if (!cell->tensor.defined()) {
    throw Napi::Error::New(info.Env(), "argument " + std::to_string(i) + ": tensor was disposed");
  }
  return cell->tensor;
}

c10::optional<at::Tensor> OptionalTensorArg(const Napi::CallbackInfo& info, size_t i) {
  if (IsMissing(info, i)) return c10::nullopt;
  return TensorArg(info, i);
}

std::vector<at::Tensor> TensorListArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsArray()) throw ArgError(info, i, "an array of tensors");
  auto arr = info[i].As<Napi::Array>();
  std::vector<at::Tensor> out;
  out.reserve(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsExternal() || !v.As<Napi::External<TensorCell>>().CheckTypeTag(&kTensorTag)) {
      throw ArgError(info, i, "an array of tensors");
    }
    auto* cell = v.As<Napi::External<TensorCell>>().Data();
    if (!cell->tensor.defined()) throw Napi::Error::New(info.Env(), "tensor list: element was disposed");
    out.push_back(cell->tensor);
  }
  return out;
}

std::vector<int64_t> IntsArg(const Napi::CallbackInfo& info, size_t i) {
  if (info[i].IsNumber()) return {info[i].As<Napi::Number>().Int64Value()};
  if (!info[i].IsArray()) throw ArgError(info, i, "an array of integers");
  auto arr = info[i].As<Napi::Array>();
  std::vector<int64_t> out(arr.Length());
  for (uint32_t k = 0; k < arr.Length(); ++k) {
    Napi::Value v = arr.Get(k);
    if (!v.IsNumber()) throw ArgError(info, i, "an array of integers");
    out[k] = v.As<Napi::Number>().Int64Value();
  }
  return out;
}

c10::optional<std::vector<int64_t>> OptionalIntsArg(const Napi::CallbackInfo& info, size_t i) {
  if (IsMissing(info, i)) return c10::nullopt;
  return IntsArg(info, i);
}

double NumberArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw ArgError(info, i, "a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

at::Scalar ScalarArg(const Napi::CallbackInfo& info, size_t i) {
  double v = NumberArg(info, i);
  if (std::isfinite(v) && std::nearbyint(v) == v && std::abs(v) < 9.0e15) return at::Scalar(static_cast<int64_t>(v));
  return at::Scalar(v);
}

int64_t IntArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsNumber()) throw ArgError(info, i, "an integer");
  return info[i].As<Napi::Number>().Int64Value();
}

bool BoolArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsBoolean()) throw ArgError(info, i, "a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

std::string StringArg(const Napi::CallbackInfo& info, size_t i) {
  if (!info[i].IsString()) throw ArgError(info, i, "a string");
  return info[i].As<Napi::String>().Utf8Value();
}

bool IsMissing(const Napi::CallbackInfo& info, size_t i) {
  return info.Length() <= i || info[i].IsNull() || info[i].IsUndefined();
}

at::ScalarType ParseDtype(const std::string& name) {
  static const std::unordered_map<std::string, at::ScalarType> kTypes = {
      {"float32", at::kFloat}, {"float64", at::kDouble}, {"float16", at::kHalf}, {"bfloat16", at::kBFloat16},
      {"int64", at::kLong},    {"int32", at::kInt},      {"int16", at::kShort},  {"int8", at::kChar},
      {"uint8", at::kByte},    {"bool", at::kBool},
  };
  auto it = kTypes.find(name);
  if (it == kTypes.end()) throw std::invalid_argument("unknown dtype '" + name + "'");
  return it->second;
}

std::string DtypeName(at::ScalarType type) {
  switch (type) {
    case at::kFloat: return "float32";
    case at::kDouble: return "float64";
    case at::kHalf: return "float16";
    case at::kBFloat16: return "bfloat16";
    case at::kLong: return "int64";
    case at::kInt: return "int32";
    case at::kShort: return "int16";
    case at::kChar: return "int8";
    case at::kByte: return "uint8";
    case at::kBool: return "bool";
    default: return std::string("unsupported:") + c10::toString(type);
  }
}

c10::Device ParseDevice(const std::string& name) { return c10::Device(name); }

int64_t ParseReduction(const std::string& name) {
  if (name == "mean") return at::Reduction::Mean;
  if (name == "sum") return at::Reduction::Sum;
  if (name == "none") return at::Reduction::None;
  throw std::invalid_argument("unknown reduction '" + name + "' (mean, sum or none)");
}

}  // namespace ts
