// Tensor creation, inspection and the copy between typed arrays and libtorch storage.
#include <cstring>

#include "handle.h"

namespace ts {

namespace {

at::TensorOptions Options(const Napi::CallbackInfo& info, size_t dtypeArg, size_t deviceArg) {
  auto dtype = IsMissing(info, dtypeArg) ? at::kFloat : ParseDtype(StringArg(info, dtypeArg));
  auto device = IsMissing(info, deviceArg) ? c10::Device(c10::kCPU) : ParseDevice(StringArg(info, deviceArg));
  return at::TensorOptions().dtype(dtype).device(device);
}

// fromArray(typedArray, shape, dtype, device): one copy from JavaScript memory into a new libtorch tensor.
Napi::Value FromArray(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "argument 0: expected a typed array");
  auto array = info[0].As<Napi::TypedArray>();
  auto shape = IntsArg(info, 1);
  auto dtype = ParseDtype(StringArg(info, 2));
  auto device = IsMissing(info, 3) ? c10::Device(c10::kCPU) : ParseDevice(StringArg(info, 3));
  auto cpu = at::empty(shape, at::TensorOptions().dtype(dtype));
  size_t bytes = cpu.numel() * cpu.element_size();
  if (array.ByteLength() != bytes) {
    throw Napi::RangeError::New(info.Env(), "fromArray: " + std::to_string(array.ByteLength()) +
                                                " bytes of data for shape of " + std::to_string(bytes) + " bytes");
  }
  auto buffer = array.ArrayBuffer();
  if (bytes > 0) std::memcpy(cpu.data_ptr(), static_cast<uint8_t*>(buffer.Data()) + array.ByteOffset(), bytes);
  return Wrap(info.Env(), device.is_cpu() ? cpu : cpu.to(device));
}

// toArray(t): one copy out, into a fresh ArrayBuffer; returns [buffer, dtypeName].
Napi::Value ToArray(const Napi::CallbackInfo& info) {
  auto t = TensorArg(info, 0).detach();
  if (t.scalar_type() == at::kHalf || t.scalar_type() == at::kBFloat16) t = t.to(at::kFloat);
  t = t.to(c10::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  auto out = Napi::Array::New(info.Env(), 2);
  out.Set(0u, buffer);
  out.Set(1u, Napi::String::New(info.Env(), DtypeName(t.scalar_type())));
  return out;
}

// toBits(t): the stored bytes of a CPU tensor as they are (float16 and bfloat16 stay 2 bytes, unlike toArray),
// for writing files in the tensor's own dtype.
Napi::Value ToBits(const Napi::CallbackInfo& info) {
  auto t = TensorArg(info, 0).detach().to(c10::kCPU).contiguous();
  size_t bytes = t.numel() * t.element_size();
  auto buffer = Napi::ArrayBuffer::New(info.Env(), bytes);
  if (bytes > 0) std::memcpy(buffer.Data(), t.data_ptr(), bytes);
  return buffer;
}

Napi::Value Full(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::full(IntsArg(info, 0), NumberArg(info, 1), Options(info, 2, 3)));
}

Napi::Value Rand(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::rand(IntsArg(info, 0), Options(info, 1, 2)));
}

Napi::Value Randn(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::randn(IntsArg(info, 0), Options(info, 1, 2)));
}

// randint(low, high, shape, dtype, device)
Napi::Value Randint(const Napi::CallbackInfo& info) {
  auto opts = Options(info, 3, 4);
  if (IsMissing(info, 3)) opts = opts.dtype(at::kLong);
  return Wrap(info.Env(), at::randint(IntArg(info, 0), IntArg(info, 1), IntsArg(info, 2), opts));
}

Napi::Value Randperm(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::randperm(IntArg(info, 0), at::TensorOptions().dtype(at::kLong)));
}

// arange(start, end, step, dtype, device)
Napi::Value Arange(const Napi::CallbackInfo& info) {
  auto opts = Options(info, 3, 4);
  if (IsMissing(info, 3)) opts = opts.dtype(at::kLong);
  return Wrap(info.Env(), at::arange(NumberArg(info, 0), NumberArg(info, 1), NumberArg(info, 2), opts));
}

Napi::Value Linspace(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::linspace(NumberArg(info, 0), NumberArg(info, 1), IntArg(info, 2), Options(info, 3, 4)));
}

Napi::Value Eye(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::eye(IntArg(info, 0), Options(info, 1, 2)));
}

Napi::Value Shape(const Napi::CallbackInfo& info) {
  auto sizes = TensorArg(info, 0).sizes();
  auto out = Napi::Array::New(info.Env(), sizes.size());
  for (size_t i = 0; i < sizes.size(); ++i) out.Set(static_cast<uint32_t>(i), Napi::Number::New(info.Env(), sizes[i]));
  return out;
}

Napi::Value Dtype(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), DtypeName(TensorArg(info, 0).scalar_type()));
}

Napi::Value Device(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TensorArg(info, 0).device().str());
}

Napi::Value IsContiguous(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_contiguous());
}

Napi::Value Item(const Napi::CallbackInfo& info) {
  const auto& t = TensorArg(info, 0);
  if (t.numel() != 1) {
    throw Napi::RangeError::New(info.Env(), "item(): tensor has " + std::to_string(t.numel()) + " elements, not 1");
  }
  return Napi::Number::New(info.Env(), t.item<double>());
}

Napi::Value DisposeTensor(const Napi::CallbackInfo& info) {
  Dispose(CellArg(info, 0));
  return info.Env().Undefined();
}

Napi::Value IsDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !CellArg(info, 0)->tensor.defined());
}

// Two handles viewing the same storage (used to tell views from copies in tests and state dicts).
Napi::Value SharesStorage(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_alias_of(TensorArg(info, 1)));
}

}  // namespace

void RegisterCreation(Napi::Env env, Napi::Object exports) {
  TS_EXPORT(exports, "fromArray", FromArray);
  TS_EXPORT(exports, "toArray", ToArray);
  TS_EXPORT(exports, "toBits", ToBits);
  TS_EXPORT(exports, "full", Full);
  TS_EXPORT(exports, "rand", Rand);
  TS_EXPORT(exports, "randn", Randn);
  TS_EXPORT(exports, "randint", Randint);
  TS_EXPORT(exports, "randperm", Randperm);
  TS_EXPORT(exports, "arange", Arange);
  TS_EXPORT(exports, "linspace", Linspace);
  TS_EXPORT(exports, "eye", Eye);
  TS_EXPORT(exports, "shape", Shape);
  TS_EXPORT(exports, "dtype", Dtype);
  TS_EXPORT(exports, "device", Device);
  TS_EXPORT(exports, "isContiguous", IsContiguous);
  TS_EXPORT(exports, "item", Item);
  TS_EXPORT(exports, "dispose", DisposeTensor);
  TS_EXPORT(exports, "isDisposed", IsDisposed);
  TS_EXPORT(exports, "sharesStorage", SharesStorage);
}

}  // namespace ts
