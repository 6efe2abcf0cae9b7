#include "handle.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  ts::RegisterCreation(env, exports);
  ts::RegisterMathOps(env, exports);
  ts::RegisterNnOps(env, exports);
  ts::RegisterAutogradOptim(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(tumorscope_torch, Init)
