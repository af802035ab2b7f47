#include "trainer/train/distributed.h"

#include <cstdlib>
#include <utility>

#include <torch/torch.h>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/model/torch_status.h"

namespace mivla::trainer {
namespace {

absl::Status ReadInt(const char* name, int* out, bool* present) {
  const char* v = std::getenv(name);
  *present = v != nullptr && *v != '\0';
  if (!*present) return absl::OkStatus();
  if (!absl::SimpleAtoi(v, out)) {
    return absl::InvalidArgumentError(absl::StrCat("environment ", name, "='", v, "' is not an integer"));
  }
  return absl::OkStatus();
}

// A c10::intrusive_ptr kept alive through a shared_ptr<void>.
template <typename T>
std::shared_ptr<void> Hold(c10::intrusive_ptr<T> p) {
  return std::shared_ptr<void>(p.get(), [p](void*) mutable { p.reset(); });
}

}  // namespace

absl::StatusOr<DistributedOptions> DistributedOptionsFromEnv() {
  DistributedOptions o;
  bool has_rank = false, has_world = false, has_port = false, has_index = false;
  if (auto s = ReadInt("WORLD_SIZE", &o.world_size, &has_world); !s.ok()) return s;
  if (auto s = ReadInt("RANK", &o.rank, &has_rank); !s.ok()) return s;
  if (!has_rank) {
    if (auto s = ReadInt("JOB_COMPLETION_INDEX", &o.rank, &has_index); !s.ok()) return s;
  }
  if (auto s = ReadInt("MASTER_PORT", &o.master_port, &has_port); !s.ok()) return s;
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') o.master_addr = addr;
  if (o.world_size > 1 && !has_rank && !has_index) {
    return absl::InvalidArgumentError(absl::StrCat(
        "WORLD_SIZE=", o.world_size, " but neither RANK nor JOB_COMPLETION_INDEX is set: every rank would be 0"));
  }
  if (o.world_size < 1) return absl::InvalidArgumentError(absl::StrCat("WORLD_SIZE=", o.world_size, " must be >= 1"));
  if (o.rank < 0 || o.rank >= o.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("RANK=", o.rank, " must be in [0, WORLD_SIZE=", o.world_size, ")"));
  }
  if (o.master_port <= 0 || o.master_port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("MASTER_PORT=", o.master_port, " is not a port"));
  }
  return o;
}

absl::StatusOr<std::unique_ptr<Distributed>> Distributed::Create(const DistributedOptions& options,
                                                                 const c10::Device& device) {
  std::unique_ptr<Distributed> d(new Distributed(options));
  if (options.world_size == 1) return d;
  const std::string where = absl::StrCat("distributed rendezvous at ", options.master_addr, ":", options.master_port,
                                         " (rank ", options.rank, " of ", options.world_size, ") failed");
  const absl::Status joined = model::CatchTorchErrors(absl::StatusCode::kUnavailable, where, [&] {
    c10d::TCPStoreOptions so;
    so.port = static_cast<uint16_t>(options.master_port);
    so.isServer = options.rank == 0;
    so.numWorkers = options.world_size;
    so.waitWorkers = true;
    so.timeout = options.timeout;
    auto store = c10::make_intrusive<c10d::TCPStore>(options.master_addr, so);
    d->store_ = Hold(store);
#ifdef USE_C10D_NCCL
    if (device.is_cuda()) {
      auto nccl_opts = c10d::ProcessGroupNCCL::Options::create();
      auto pg = c10::make_intrusive<c10d::ProcessGroupNCCL>(store, options.rank, options.world_size, nccl_opts);
      d->group_ = Hold(pg);
      d->backend_ = "nccl";
      d->allreduce_ = [pg](std::vector<at::Tensor>& t) { pg->allreduce(t)->wait(); };
      d->broadcast_ = [pg](std::vector<at::Tensor>& t) { pg->broadcast(t)->wait(); };
      d->barrier_ = [pg] { pg->barrier()->wait(); };
      return;
    }
#endif
    auto gloo_opts = c10d::ProcessGroupGloo::Options::create(options.timeout);
    const bool loopback = options.master_addr == "127.0.0.1" || options.master_addr == "localhost";
    if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname != nullptr && *ifname != '\0') {
      gloo_opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
    } else if (loopback) {
      gloo_opts->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
    } else {
      gloo_opts->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    auto pg = c10::make_intrusive<c10d::ProcessGroupGloo>(store, options.rank, options.world_size, gloo_opts);
    d->group_ = Hold(pg);
    d->backend_ = "gloo";
    d->host_staging_ = device.is_cuda();
    d->allreduce_ = [pg](std::vector<at::Tensor>& t) { pg->allreduce(t)->wait(); };
    d->broadcast_ = [pg](std::vector<at::Tensor>& t) { pg->broadcast(t)->wait(); };
    d->barrier_ = [pg] { pg->barrier()->wait(); };
  });
  if (!joined.ok()) return joined;
  return d;
}

absl::Status Distributed::Run(const char* what, const Collective& op, std::vector<at::Tensor>& tensors) {
  return model::CatchTorchErrors(absl::StrCat("c10d ", what, " (", backend_, ", rank ", rank(), ") failed"),
                                 [&] { op(tensors); });
}

absl::Status Distributed::Broadcast(const std::vector<at::Tensor>& tensors) {
  if (world_size() == 1 || tensors.empty()) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> flat = {torch::cat([&] {
    std::vector<at::Tensor> parts;
    for (const at::Tensor& t : tensors) parts.push_back(t.detach().reshape(-1).to(torch::kFloat32));
    return parts;
  }())};
  if (host_staging_) flat[0] = flat[0].cpu();
  if (auto s = Run("broadcast", broadcast_, flat); !s.ok()) return s;
  int64_t offset = 0;
  for (const at::Tensor& t : tensors) {
    const int64_t n = t.numel();
    t.detach().copy_(flat[0].slice(0, offset, offset + n).view(t.sizes()));
    offset += n;
  }
  return absl::OkStatus();
}

absl::Status Distributed::AverageGradients(const std::vector<at::Tensor>& params) {
  if (world_size() == 1 || params.empty()) return absl::OkStatus();
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (const at::Tensor& p : params) {
    parts.push_back(p.grad().defined() ? p.grad().reshape(-1).to(torch::kFloat32)
                                       : torch::zeros({p.numel()}, p.options().dtype(torch::kFloat32)));
  }
  std::vector<at::Tensor> flat = {torch::cat(parts)};
  if (host_staging_) flat[0] = flat[0].cpu();
  if (auto s = Run("allreduce", allreduce_, flat); !s.ok()) return s;
  flat[0].div_(static_cast<double>(world_size()));
  int64_t offset = 0;
  for (const at::Tensor& p : params) {
    const int64_t n = p.numel();
    at::Tensor g = flat[0].slice(0, offset, offset + n).view(p.sizes()).to(p.device(), p.scalar_type());
    if (p.grad().defined()) {
      p.mutable_grad().copy_(g);
    } else {
      p.mutable_grad() = g.clone();
    }
    offset += n;
  }
  return absl::OkStatus();
}

absl::Status Distributed::AverageValues(std::vector<double>* values) {
  if (auto s = SumValues(values); !s.ok()) return s;
  for (double& v : *values) v /= world_size();
  return absl::OkStatus();
}

absl::Status Distributed::SumValues(std::vector<double>* values) {
  if (world_size() == 1 || values->empty()) return absl::OkStatus();
  std::vector<at::Tensor> t = {torch::tensor(*values, torch::kFloat64)};
  if (auto s = Run("allreduce", allreduce_, t); !s.ok()) return s;
  for (size_t i = 0; i < values->size(); ++i) (*values)[i] = t[0][static_cast<int64_t>(i)].item<double>();
  return absl::OkStatus();
}

absl::Status Distributed::BroadcastValues(std::vector<double>* values) {
  if (world_size() == 1 || values->empty()) return absl::OkStatus();
  std::vector<at::Tensor> t = {torch::tensor(*values, torch::kFloat64)};
  if (auto s = Run("broadcast", broadcast_, t); !s.ok()) return s;
  for (size_t i = 0; i < values->size(); ++i) (*values)[i] = t[0][static_cast<int64_t>(i)].item<double>();
  return absl::OkStatus();
}

absl::Status Distributed::Barrier() {
  if (world_size() == 1) return absl::OkStatus();
  return model::CatchTorchErrors(absl::StrCat("c10d barrier (rank ", rank(), ") failed"), [&] { barrier_(); });
}

}  // namespace mivla::trainer
