// Elementwise arithmetic, comparisons, reductions, shape and indexing ops: thin calls into ATen.
#include "handle.h"

namespace ts {

namespace {

#define TS_UNARY(Name, expr)                               \
  Napi::Value Name(const Napi::CallbackInfo& info) {       \
    const at::Tensor& x = TensorArg(info, 0);              \
    return Wrap(info.Env(), expr);                         \
  }

TS_UNARY(Neg, at::neg(x))
TS_UNARY(Abs, at::abs(x))
TS_UNARY(Exp, at::exp(x))
TS_UNARY(Log, at::log(x))
TS_UNARY(Log1p, at::log1p(x))
TS_UNARY(Sqrt, at::sqrt(x))
TS_UNARY(Rsqrt, at::rsqrt(x))
TS_UNARY(Square, at::square(x))
TS_UNARY(Reciprocal, at::reciprocal(x))
TS_UNARY(Sign, at::sign(x))
TS_UNARY(Floor, at::floor(x))
TS_UNARY(Ceil, at::ceil(x))
TS_UNARY(Round, at::round(x))
TS_UNARY(LogicalNot, at::logical_not(x))
TS_UNARY(Clone, x.clone())
TS_UNARY(Detach, x.detach())
TS_UNARY(Contiguous, x.contiguous())

// contiguousAs(x, 'channels_last' | 'contiguous'): the same values in that memory layout (NHWC strides for
// channels_last), a no-op when already so. oneDNN convolutions run on NHWC without reordering their input and
// output, and pooling, ReLU, add, cat and batch norm keep the layout.
Napi::Value ContiguousAs(const Napi::CallbackInfo& info) {
  const std::string format = StringArg(info, 1);
  if (format == "channels_last") return Wrap(info.Env(), TensorArg(info, 0).contiguous(at::MemoryFormat::ChannelsLast));
  if (format == "contiguous") return Wrap(info.Env(), TensorArg(info, 0).contiguous());
  throw Napi::TypeError::New(info.Env(), "memory format must be 'channels_last' or 'contiguous', got " + format);
}
Napi::Value IsChannelsLast(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), TensorArg(info, 0).is_contiguous(at::MemoryFormat::ChannelsLast));
}

// Binary ops accept a tensor or a number as the second operand, as PyTorch does.
#define TS_BINARY(Name, fn)                                                         \
  Napi::Value Name(const Napi::CallbackInfo& info) {                               \
    const at::Tensor& a = TensorArg(info, 0);                                      \
    if (info[1].IsNumber()) return Wrap(info.Env(), fn(a, ScalarArg(info, 1))); \
    return Wrap(info.Env(), fn(a, TensorArg(info, 1)));                            \
  }

TS_BINARY(Add, at::add)
TS_BINARY(Sub, at::sub)
TS_BINARY(Mul, at::mul)
TS_BINARY(Div, at::div)
TS_BINARY(Pow, at::pow)
TS_BINARY(Remainder, at::remainder)
TS_BINARY(Eq, at::eq)
TS_BINARY(Ne, at::ne)
TS_BINARY(Lt, at::lt)
TS_BINARY(Le, at::le)
TS_BINARY(Gt, at::gt)
TS_BINARY(Ge, at::ge)

#define TS_TENSOR_BINARY(Name, fn)                                           \
  Napi::Value Name(const Napi::CallbackInfo& info) {                        \
    return Wrap(info.Env(), fn(TensorArg(info, 0), TensorArg(info, 1)));    \
  }

TS_TENSOR_BINARY(Maximum, at::maximum)
TS_TENSOR_BINARY(Minimum, at::minimum)
TS_TENSOR_BINARY(LogicalAnd, at::logical_and)
TS_TENSOR_BINARY(LogicalOr, at::logical_or)
TS_TENSOR_BINARY(Matmul, at::matmul)

// Reductions: dims null means every dimension (each kept as size 1 with keepdim).
static std::vector<int64_t> EveryDim(const at::Tensor& x) {
  std::vector<int64_t> dims(x.dim());
  for (int64_t d = 0; d < x.dim(); d++) dims[d] = d;
  return dims;
}

#define TS_REDUCE(Name, fn)                                                   \
  Napi::Value Name(const Napi::CallbackInfo& info) {                          \
    const at::Tensor& x = TensorArg(info, 0);                                 \
    auto dims = OptionalIntsArg(info, 1);                                     \
    bool keep = !IsMissing(info, 2) && BoolArg(info, 2);                      \
    if (!dims && !keep) return Wrap(info.Env(), fn(x, c10::IntArrayRef{}, false)); \
    return Wrap(info.Env(), fn(x, dims ? *dims : EveryDim(x), keep));        \
  }

at::Tensor SumAll(const at::Tensor& x, at::IntArrayRef dims, bool keep) {
  return dims.empty() ? at::sum(x) : at::sum(x, dims, keep);
}
at::Tensor MeanAll(const at::Tensor& x, at::IntArrayRef dims, bool keep) {
  return dims.empty() ? at::mean(x) : at::mean(x, dims, keep);
}
at::Tensor AmaxAll(const at::Tensor& x, at::IntArrayRef dims, bool keep) { return at::amax(x, dims, keep); }
at::Tensor AminAll(const at::Tensor& x, at::IntArrayRef dims, bool keep) { return at::amin(x, dims, keep); }

TS_REDUCE(Sum, SumAll)
TS_REDUCE(Mean, MeanAll)
TS_REDUCE(Amax, AmaxAll)
TS_REDUCE(Amin, AminAll)

// var(x, dims|null, unbiased, keepdim)
Napi::Value Var(const Napi::CallbackInfo& info) {
  auto dims = OptionalIntsArg(info, 1);
  bool unbiased = IsMissing(info, 2) || BoolArg(info, 2);
  bool keep = !IsMissing(info, 3) && BoolArg(info, 3);
  const at::Tensor& x = TensorArg(info, 0);
  if (!dims && !keep) return Wrap(info.Env(), at::var(x, unbiased));
  return Wrap(info.Env(), at::var(x, at::IntArrayRef(dims ? *dims : EveryDim(x)), unbiased, keep));
}

// argmax(x, dim|null, keepdim)
Napi::Value Argmax(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> dim;
  if (!IsMissing(info, 1)) dim = IntArg(info, 1);
  return Wrap(info.Env(), at::argmax(TensorArg(info, 0), dim, !IsMissing(info, 2) && BoolArg(info, 2)));
}

Napi::Value Argmin(const Napi::CallbackInfo& info) {
  c10::optional<int64_t> dim;
  if (!IsMissing(info, 1)) dim = IntArg(info, 1);
  return Wrap(info.Env(), at::argmin(TensorArg(info, 0), dim, !IsMissing(info, 2) && BoolArg(info, 2)));
}

Napi::Value Cumsum(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::cumsum(TensorArg(info, 0), IntArg(info, 1)));
}

// sort(x, dim, descending) -> [values, indices]
Napi::Value Sort(const Napi::CallbackInfo& info) {
  auto [values, indices] = at::sort(TensorArg(info, 0), IntArg(info, 1), BoolArg(info, 2));
  return WrapList(info.Env(), {values, indices});
}

// clamp(x, min|null, max|null)
Napi::Value Clamp(const Napi::CallbackInfo& info) {
  c10::optional<at::Scalar> lo, hi;
  if (!IsMissing(info, 1)) lo = NumberArg(info, 1);
  if (!IsMissing(info, 2)) hi = NumberArg(info, 2);
  return Wrap(info.Env(), at::clamp(TensorArg(info, 0), lo, hi));
}

Napi::Value Where(const Napi::CallbackInfo& info) {
  const at::Tensor& cond = TensorArg(info, 0);
  if (info[1].IsNumber() && info[2].IsNumber()) {
    return Wrap(info.Env(), at::where(cond, ScalarArg(info, 1), ScalarArg(info, 2)));
  }
  if (info[2].IsNumber()) return Wrap(info.Env(), at::where(cond, TensorArg(info, 1), ScalarArg(info, 2)));
  if (info[1].IsNumber()) return Wrap(info.Env(), at::where(cond, ScalarArg(info, 1), TensorArg(info, 2)));
  return Wrap(info.Env(), at::where(cond, TensorArg(info, 1), TensorArg(info, 2)));
}

Napi::Value MaskedFill(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::masked_fill(TensorArg(info, 0), TensorArg(info, 1), NumberArg(info, 2)));
}

// ----- shape -----

Napi::Value Reshape(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).reshape(IntsArg(info, 1)));
}
Napi::Value Permute(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).permute(IntsArg(info, 1)));
}
Napi::Value Transpose(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).transpose(IntArg(info, 1), IntArg(info, 2)));
}
Napi::Value Squeeze(const Napi::CallbackInfo& info) {
  if (IsMissing(info, 1)) return Wrap(info.Env(), TensorArg(info, 0).squeeze());
  return Wrap(info.Env(), TensorArg(info, 0).squeeze(IntArg(info, 1)));
}
Napi::Value Unsqueeze(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).unsqueeze(IntArg(info, 1)));
}
Napi::Value Flatten(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).flatten(IntArg(info, 1), IntArg(info, 2)));
}
Napi::Value Expand(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).expand(IntsArg(info, 1)));
}
Napi::Value Repeat(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).repeat(IntsArg(info, 1)));
}
// slice(x, dim, start, end, step): a view, like x[..., start:end:step]
Napi::Value Slice(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::slice(TensorArg(info, 0), IntArg(info, 1), IntArg(info, 2), IntArg(info, 3),
                                    IntArg(info, 4)));
}
Napi::Value Select(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).select(IntArg(info, 1), IntArg(info, 2)));
}
Napi::Value IndexSelect(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::index_select(TensorArg(info, 0), IntArg(info, 1), TensorArg(info, 2)));
}
Napi::Value Gather(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::gather(TensorArg(info, 0), IntArg(info, 1), TensorArg(info, 2)));
}
Napi::Value MaskedSelect(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::masked_select(TensorArg(info, 0), TensorArg(info, 1)));
}
Napi::Value Cat(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::cat(TensorListArg(info, 0), IntArg(info, 1)));
}
Napi::Value Stack(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::stack(TensorListArg(info, 0), IntArg(info, 1)));
}
Napi::Value Flip(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::flip(TensorArg(info, 0), IntsArg(info, 1)));
}
Napi::Value Rot90(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::rot90(TensorArg(info, 0), IntArg(info, 1), IntsArg(info, 2)));
}
Napi::Value ToDtype(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).to(ParseDtype(StringArg(info, 1))));
}
Napi::Value ToDevice(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), TensorArg(info, 0).to(ParseDevice(StringArg(info, 1))));
}
Napi::Value OneHot(const Napi::CallbackInfo& info) {
  return Wrap(info.Env(), at::one_hot(TensorArg(info, 0), IntArg(info, 1)));
}

// ----- in place (used by initialisers, state-dict loading and running statistics) -----

Napi::Value Copy_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  TensorArg(info, 0).copy_(TensorArg(info, 1));
  return info.Env().Undefined();
}
Napi::Value Fill_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  TensorArg(info, 0).fill_(NumberArg(info, 1));
  return info.Env().Undefined();
}
// add_(t, other|number, alpha) and mul_(t, other|number): in place, without recording for autograd.
Napi::Value Add_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  at::Scalar alpha = IsMissing(info, 2) ? at::Scalar(int64_t{1}) : ScalarArg(info, 2);
  if (info[1].IsNumber()) {
    TensorArg(info, 0).add_(ScalarArg(info, 1), alpha);
  } else {
    TensorArg(info, 0).add_(TensorArg(info, 1), alpha);
  }
  return info.Env().Undefined();
}
Napi::Value Mul_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  if (info[1].IsNumber()) {
    TensorArg(info, 0).mul_(ScalarArg(info, 1));
  } else {
    TensorArg(info, 0).mul_(TensorArg(info, 1));
  }
  return info.Env().Undefined();
}
Napi::Value Uniform_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  TensorArg(info, 0).uniform_(NumberArg(info, 1), NumberArg(info, 2));
  return info.Env().Undefined();
}
Napi::Value Normal_(const Napi::CallbackInfo& info) {
  at::NoGradGuard noGrad;
  TensorArg(info, 0).normal_(NumberArg(info, 1), NumberArg(info, 2));
  return info.Env().Undefined();
}

}  // namespace

void RegisterMathOps(Napi::Env env, Napi::Object exports) {
  TS_EXPORT(exports, "neg", Neg);
  TS_EXPORT(exports, "abs", Abs);
  TS_EXPORT(exports, "exp", Exp);
  TS_EXPORT(exports, "log", Log);
  TS_EXPORT(exports, "log1p", Log1p);
  TS_EXPORT(exports, "sqrt", Sqrt);
  TS_EXPORT(exports, "rsqrt", Rsqrt);
  TS_EXPORT(exports, "square", Square);
  TS_EXPORT(exports, "reciprocal", Reciprocal);
  TS_EXPORT(exports, "sign", Sign);
  TS_EXPORT(exports, "floor", Floor);
  TS_EXPORT(exports, "ceil", Ceil);
  TS_EXPORT(exports, "round", Round);
  TS_EXPORT(exports, "logicalNot", LogicalNot);
  TS_EXPORT(exports, "clone", Clone);
  TS_EXPORT(exports, "detach", Detach);
  TS_EXPORT(exports, "contiguous", Contiguous);
  TS_EXPORT(exports, "contiguousAs", ContiguousAs);
  TS_EXPORT(exports, "isChannelsLast", IsChannelsLast);
  TS_EXPORT(exports, "add", Add);
  TS_EXPORT(exports, "sub", Sub);
  TS_EXPORT(exports, "mul", Mul);
  TS_EXPORT(exports, "div", Div);
  TS_EXPORT(exports, "pow", Pow);
  TS_EXPORT(exports, "remainder", Remainder);
  TS_EXPORT(exports, "eq", Eq);
  TS_EXPORT(exports, "ne", Ne);
  TS_EXPORT(exports, "lt", Lt);
  TS_EXPORT(exports, "le", Le);
  TS_EXPORT(exports, "gt", Gt);
  TS_EXPORT(exports, "ge", Ge);
  TS_EXPORT(exports, "maximum", Maximum);
  TS_EXPORT(exports, "minimum", Minimum);
  TS_EXPORT(exports, "logicalAnd", LogicalAnd);
  TS_EXPORT(exports, "logicalOr", LogicalOr);
  TS_EXPORT(exports, "matmul", Matmul);
  TS_EXPORT(exports, "sum", Sum);
  TS_EXPORT(exports, "mean", Mean);
  TS_EXPORT(exports, "amax", Amax);
  TS_EXPORT(exports, "amin", Amin);
  TS_EXPORT(exports, "var", Var);
  TS_EXPORT(exports, "argmax", Argmax);
  TS_EXPORT(exports, "argmin", Argmin);
  TS_EXPORT(exports, "cumsum", Cumsum);
  TS_EXPORT(exports, "sort", Sort);
  TS_EXPORT(exports, "clamp", Clamp);
  TS_EXPORT(exports, "where", Where);
  TS_EXPORT(exports, "maskedFill", MaskedFill);
  TS_EXPORT(exports, "reshape", Reshape);
  TS_EXPORT(exports, "permute", Permute);
  TS_EXPORT(exports, "transpose", Transpose);
  TS_EXPORT(exports, "squeeze", Squeeze);
  TS_EXPORT(exports, "unsqueeze", Unsqueeze);
  TS_EXPORT(exports, "flatten", Flatten);
  TS_EXPORT(exports, "expand", Expand);
  TS_EXPORT(exports, "repeat", Repeat);
  TS_EXPORT(exports, "slice", Slice);
  TS_EXPORT(exports, "select", Select);
  TS_EXPORT(exports, "indexSelect", IndexSelect);
  TS_EXPORT(exports, "gather", Gather);
  TS_EXPORT(exports, "maskedSelect", MaskedSelect);
  TS_EXPORT(exports, "cat", Cat);
  TS_EXPORT(exports, "stack", Stack);
  TS_EXPORT(exports, "flip", Flip);
  TS_EXPORT(exports, "rot90", Rot90);
  TS_EXPORT(exports, "toDtype", ToDtype);
  TS_EXPORT(exports, "toDevice", ToDevice);
  TS_EXPORT(exports, "oneHot", OneHot);
  TS_EXPORT(exports, "copy_", Copy_);
  TS_EXPORT(exports, "fill_", Fill_);
  TS_EXPORT(exports, "add_", Add_);
  TS_EXPORT(exports, "mul_", Mul_);
  TS_EXPORT(exports, "uniform_", Uniform_);
  TS_EXPORT(exports, "normal_", Normal_);
}

}  // namespace ts
