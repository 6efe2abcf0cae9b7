#include <malloc.h>

#include <climits>
#include <cstdlib>

#include "handle.h"

namespace ts {
void RegisterDistributed(Napi::Env env, Napi::Object exports);  // distributed.cc
}

namespace {

// glibc returns every freed block above its mmap threshold (128 KB, adapting up to 32 MB) to the kernel, so each
// training step's activations (tens of MB each) come back as fresh pages that the kernel must fault in and zero:
// a U-Net step at 256×256, batch 8, took 14 s instead of 2.6 s (bench/engine, same in PyTorch). Keeping freed
// memory in the heap instead trades a higher resident peak for that speed. TUMORSCOPE_SYSTEM_MALLOC=1 opts out.
bool TuneAllocator() {
  const char* optOut = std::getenv("TUMORSCOPE_SYSTEM_MALLOC");
  if (optOut != nullptr && optOut[0] != '\0' && optOut[0] != '0') return false;
  return mallopt(M_MMAP_THRESHOLD, INT_MAX) == 1 && mallopt(M_TRIM_THRESHOLD, INT_MAX) == 1;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  bool tuned = TuneAllocator();
  ts::RegisterCreation(env, exports);
  ts::RegisterMathOps(env, exports);
  ts::RegisterNnOps(env, exports);
  ts::RegisterAutogradOptim(env, exports);
  ts::RegisterDistributed(env, exports);
  exports.Set("allocatorTuned", Napi::Boolean::New(env, tuned));
  return exports;
}

}  // namespace

NODE_API_MODULE(tumorscope_torch, Init)
