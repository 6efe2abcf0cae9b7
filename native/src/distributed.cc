// libtorch's own distributed engine (c10d) for data-parallel training: a TCPStore for the rendezvous and small
// messages, and a ProcessGroupGloo for the collectives (allreduce, broadcast, barrier), as PyTorch's
// init_process_group("gloo") builds them. Nothing here speaks to a socket itself.
//
// Every call blocks the JavaScript thread until the collective is done: training is synchronous anyway. A peer
// that dies closes its connections (Gloo fails the collective at once); one that hangs makes it fail after the
// group's timeout. Both surface as the C++ exception's message, which the TypeScript side adds context to.

#include "handle.h"

// Gloo's headers come with libgloo-dev on Debian (scripts/setup.sh installs it); a libtorch without them (another
// build chosen with LIBTORCH=) still builds the addon, and only joining a group fails, saying why.
#if __has_include(<gloo/rendezvous/store.h>)
#define TUMORSCOPE_HAS_GLOO 1
// ProcessGroupGloo.hpp declares its class only under this macro, which libtorch's own build defines when Gloo is
// enabled (Debian's libtorch is).
#define USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/csrc/distributed/c10d/comm.hpp>
#endif

#include <chrono>
#include <exception>
#include <string>

namespace ts {

#ifdef TUMORSCOPE_HAS_GLOO

namespace {

constexpr napi_type_tag kGroupTag = {0x7475'6d6f'7273'636fULL, 0x7065'2d63'3130'6467ULL};

// DDP's default for syncing module states (torch.nn.parallel.DistributedDataParallel's broadcast_bucket_size).
constexpr size_t kBroadcastBucketBytes = 250 * 1024 * 1024;

struct GroupCell {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> group;
};

void FinalizeGroup(Napi::Env, GroupCell* cell) { delete cell; }

GroupCell* GroupArg(const Napi::CallbackInfo& info, size_t i) {
  auto v = info[i];
  if (!v.IsExternal() || !v.As<Napi::External<GroupCell>>().CheckTypeTag(&kGroupTag)) {
    throw Napi::TypeError::New(info.Env(), "argument " + std::to_string(i) + ": expected a process group");
  }
  auto* cell = v.As<Napi::External<GroupCell>>().Data();
  if (!cell->group) throw Napi::Error::New(info.Env(), "the process group was closed");
  return cell;
}

// Gloo moves raw bytes: a tensor handed to it as it is must be dense, contiguous and on the CPU.
void CheckCommunicable(const at::Tensor& t, size_t index) {
  if (!t.is_contiguous() || t.is_sparse() || !t.device().is_cpu()) {
    throw std::invalid_argument("tensor " + std::to_string(index) +
                                ": collectives need dense, contiguous CPU tensors");
  }
}

// broadcast_coalesced copies tensors into flat buffers and back, so any dense layout will do: channels-last
// weights (what training runs on) included.
void CheckCoalescable(const at::Tensor& t, size_t index) {
  if (t.is_sparse() || !t.device().is_cpu() || !t.is_non_overlapping_and_dense()) {
    throw std::invalid_argument("tensor " + std::to_string(index) +
                                ": a broadcast needs dense CPU tensors without overlapping elements");
  }
}

// Waits for every work item, so that none is left running on tensors the caller may free; rethrows the first
// failure.
void WaitAll(const std::vector<c10::intrusive_ptr<c10d::Work>>& works) {
  std::exception_ptr first;
  for (const auto& work : works) {
    try {
      work->wait();
    } catch (...) {
      if (!first) first = std::current_exception();
    }
  }
  if (first) std::rethrow_exception(first);
}

std::shared_ptr<::gloo::transport::Device> MakeDevice(const std::string& kind, const std::string& value) {
  if (kind == "interface") return c10d::ProcessGroupGloo::createDeviceForInterface(value);
  if (kind == "hostname") return c10d::ProcessGroupGloo::createDeviceForHostname(value);
  if (kind == "default") return c10d::ProcessGroupGloo::createDefaultDevice();
  throw std::invalid_argument("unknown Gloo device kind '" + kind + "'");
}

// joinGroup(masterAddr, masterPort, rank, worldSize, timeoutMs, deviceKind, deviceValue)
// Rank 0 serves the TCPStore at masterAddr:masterPort; every rank connects to it, waits for all the others (up to
// the timeout) and then builds the Gloo group, whose connections run between the ranks directly.
Napi::Value JoinGroup(const Napi::CallbackInfo& info) {
  std::string master = StringArg(info, 0);
  int64_t port = IntArg(info, 1), rank = IntArg(info, 2), size = IntArg(info, 3);
  std::chrono::milliseconds timeout(IntArg(info, 4));
  std::string deviceKind = StringArg(info, 5), deviceValue = StringArg(info, 6);
  if (port < 1 || port > 65535) throw std::invalid_argument("master port must be from 1 to 65535");
  if (size < 1 || rank < 0 || rank >= size) throw std::invalid_argument("rank must be from 0 to world size - 1");

  c10d::TCPStoreOptions options;
  options.port = static_cast<std::uint16_t>(port);
  options.isServer = rank == 0;
  options.numWorkers = static_cast<size_t>(size);
  options.waitWorkers = true;
  options.timeout = timeout;
  auto store = c10::make_intrusive<c10d::TCPStore>(master, options);

  auto groupOptions = c10d::ProcessGroupGloo::Options::create(timeout);
  groupOptions->devices.push_back(MakeDevice(deviceKind, deviceValue));
  // Gloo's own keys live under a prefix, apart from the messages of publish/fetch.
  auto glooStore = c10::make_intrusive<c10d::PrefixStore>("gloo", store);
  auto group = c10::make_intrusive<c10d::ProcessGroupGloo>(glooStore, static_cast<int>(rank),
                                                            static_cast<int>(size), groupOptions);

  auto* cell = new GroupCell{store, group};
  auto external = Napi::External<GroupCell>::New(info.Env(), cell, FinalizeGroup);
  external.TypeTag(&kGroupTag);
  return external;
}

// allreduceSum(group, tensors): every tensor summed over the ranks, in place. All are started before the first is
// waited for, so Gloo's threads work on several at once.
Napi::Value AllreduceSum(const Napi::CallbackInfo& info) {
  auto* cell = GroupArg(info, 0);
  auto tensors = TensorListArg(info, 1);
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  for (size_t i = 0; i < tensors.size(); ++i) {
    CheckCommunicable(tensors[i], i);
    std::vector<at::Tensor> one{tensors[i]};
    works.push_back(cell->group->allreduce(one));
  }
  WaitAll(works);
  return info.Env().Undefined();
}

// broadcast(group, tensors, root): root's values into every rank's tensors, coalesced into large flat buffers
// (c10d::broadcast_coalesced, what DDP uses to sync parameters and buffers).
Napi::Value Broadcast(const Napi::CallbackInfo& info) {
  auto* cell = GroupArg(info, 0);
  auto tensors = TensorListArg(info, 1);
  int64_t root = IntArg(info, 2);
  std::vector<at::Tensor> targets;
  targets.reserve(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) {
    CheckCoalescable(tensors[i], i);
    targets.push_back(tensors[i].detach());  // parameters are written in place, outside autograd
  }
  if (targets.empty()) return info.Env().Undefined();
  at::NoGradGuard noGrad;
  c10d::broadcast_coalesced(cell->group, targets, kBroadcastBucketBytes, static_cast<int>(root));
  return info.Env().Undefined();
}

// averageGradients(group, params, bucketSizes): the gradients of `params` (taken in the given order, cut into
// buckets of bucketSizes[k] parameters) summed over the ranks and divided by the world size, in place. Each
// bucket travels as one flat tensor; all buckets are started before the first is waited for.
Napi::Value AverageGradients(const Napi::CallbackInfo& info) {
  auto* cell = GroupArg(info, 0);
  auto params = TensorListArg(info, 1);
  auto bucketSizes = IntsArg(info, 2);
  int64_t total = 0;
  for (auto n : bucketSizes) total += n;
  if (total != static_cast<int64_t>(params.size())) {
    throw std::invalid_argument("averageGradients: bucket sizes add up to " + std::to_string(total) + ", not " +
                                std::to_string(params.size()) + " parameters");
  }
  at::NoGradGuard noGrad;
  std::vector<std::vector<at::Tensor>> grads(bucketSizes.size());
  std::vector<at::Tensor> flats;
  std::vector<c10::intrusive_ptr<c10d::Work>> works;
  size_t next = 0;
  for (size_t b = 0; b < bucketSizes.size(); ++b) {
    for (int64_t k = 0; k < bucketSizes[b]; ++k, ++next) {
      const at::Tensor& grad = params[next].grad();
      if (!grad.defined()) {
        throw std::invalid_argument("parameter " + std::to_string(next) +
                                    " has no gradient: every trainable parameter must take part in each step");
      }
      grads[b].push_back(grad);
    }
    if (grads[b].empty()) continue;
    flats.push_back(at::flatten_dense_tensors(grads[b]));
    std::vector<at::Tensor> one{flats.back()};
    works.push_back(cell->group->allreduce(one));
  }
  WaitAll(works);
  const double size = cell->group->getSize();
  size_t flat = 0;
  for (auto& bucket : grads) {
    if (bucket.empty()) continue;
    flats[flat].div_(size);
    auto parts = at::unflatten_dense_tensors(flats[flat], bucket);
    for (size_t k = 0; k < bucket.size(); ++k) bucket[k].copy_(parts[k]);
    ++flat;
  }
  return info.Env().Undefined();
}

Napi::Value Barrier(const Napi::CallbackInfo& info) {
  GroupArg(info, 0)->group->barrier()->wait();
  return info.Env().Undefined();
}

// publish(group, key, text) / fetch(group, key) -> text: small messages through the TCPStore. fetch waits (up to
// the group's timeout) until some rank has published the key.
Napi::Value Publish(const Napi::CallbackInfo& info) {
  auto* cell = GroupArg(info, 0);
  std::string key = StringArg(info, 1), text = StringArg(info, 2);
  cell->store->set("tumorscope/" + key, std::vector<uint8_t>(text.begin(), text.end()));
  return info.Env().Undefined();
}

Napi::Value Fetch(const Napi::CallbackInfo& info) {
  auto* cell = GroupArg(info, 0);
  auto bytes = cell->store->get("tumorscope/" + StringArg(info, 1));
  return Napi::String::New(info.Env(), std::string(bytes.begin(), bytes.end()));
}

// closeGroup(group): drops the Gloo connections and the store (rank 0's server socket frees the port).
Napi::Value CloseGroup(const Napi::CallbackInfo& info) {
  auto v = info[0];
  if (!v.IsExternal() || !v.As<Napi::External<GroupCell>>().CheckTypeTag(&kGroupTag)) {
    throw Napi::TypeError::New(info.Env(), "argument 0: expected a process group");
  }
  auto* cell = v.As<Napi::External<GroupCell>>().Data();
  cell->group.reset();
  cell->store.reset();
  return info.Env().Undefined();
}

}  // namespace

#else

namespace {

Napi::Value NoGloo(const Napi::CallbackInfo& info) {
  throw Napi::Error::New(info.Env(),
                         "this addon was built without Gloo's headers (on Debian: apt-get install libgloo-dev, then "
                         "npm run build:native), so it cannot train data-parallel");
}

constexpr auto JoinGroup = NoGloo, AllreduceSum = NoGloo, Broadcast = NoGloo, AverageGradients = NoGloo,
               Barrier = NoGloo, Publish = NoGloo, Fetch = NoGloo, CloseGroup = NoGloo;

}  // namespace

#endif

void RegisterDistributed(Napi::Env env, Napi::Object exports) {
  TS_EXPORT(exports, "joinGroup", JoinGroup);
  TS_EXPORT(exports, "allreduceSum", AllreduceSum);
  TS_EXPORT(exports, "broadcast", Broadcast);
  TS_EXPORT(exports, "averageGradients", AverageGradients);
  TS_EXPORT(exports, "barrier", Barrier);
  TS_EXPORT(exports, "publish", Publish);
  TS_EXPORT(exports, "fetch", Fetch);
  TS_EXPORT(exports, "closeGroup", CloseGroup);
}

}  // namespace ts
