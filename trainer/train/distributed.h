// File: distributed.h
// Data-parallel training on LibTorch's own c10d process groups: ProcessGroupGloo on the CPU,
// ProcessGroupNCCL on CUDA when built with USE_C10D_NCCL (CMake MIVLA_WITH_NCCL; otherwise Gloo
// through host copies).
// Configured the torchrun way, by environment: RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT (a TCPStore
// rendezvous; rank 0 hosts the store), so the same binary runs under torchrun-style launchers and as a
// Kubernetes indexed Job (RANK from JOB_COMPLETION_INDEX when RANK is unset). World size 1 (no
// variables) needs no process group at all.
//
//   ASSIGN_OR_RETURN(DistributedOptions o, DistributedOptionsFromEnv());
//   ASSIGN_OR_RETURN(std::unique_ptr<Distributed> dist, Distributed::Create(o, device));
//   RETURN_IF_ERROR(dist->Broadcast(model->parameters()));  // everyone starts from rank 0's weights
//   ... loss.backward(); RETURN_IF_ERROR(dist->AverageGradients(params));
//
// Collectives are c10d's; this class only flattens gradients into one bucket and divides by the world
// size. Thread-compatible: call from the training thread only.
#ifndef MIVLA_TRAINER_TRAIN_DISTRIBUTED_H_
#define MIVLA_TRAINER_TRAIN_DISTRIBUTED_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <c10/core/Device.h>
#include <ATen/core/Tensor.h>

#include "absl/status/statusor.h"

namespace mivla::trainer {

struct DistributedOptions {
  int rank = 0;
  int world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::chrono::milliseconds timeout{std::chrono::minutes(5)};
};

/// Reads RANK (or JOB_COMPLETION_INDEX), WORLD_SIZE, MASTER_ADDR, MASTER_PORT. Unset WORLD_SIZE means
/// 1. Errors name the variable and the bad value.
absl::StatusOr<DistributedOptions> DistributedOptionsFromEnv();

class Distributed {
 public:
  /// world_size 1: a no-op group. Otherwise joins the rendezvous (blocks until every rank arrived or
  /// the timeout passed) and creates the process group for `device`.
  static absl::StatusOr<std::unique_ptr<Distributed>> Create(const DistributedOptions& options,
                                                             const c10::Device& device);

  int rank() const { return options_.rank; }
  int world_size() const { return options_.world_size; }
  bool is_main() const { return options_.rank == 0; }
  /// "gloo", "nccl" or "none".
  const std::string& backend() const { return backend_; }

  /// Copies rank 0's values of `tensors` into every rank's (in place).
  absl::Status Broadcast(const std::vector<at::Tensor>& tensors);
  /// Replaces each parameter's gradient by the mean over ranks (parameters without a gradient count as
  /// zero, consistently on every rank).
  absl::Status AverageGradients(const std::vector<at::Tensor>& params);
  /// Replaces each value by its mean over ranks (e.g. loss terms for logging).
  absl::Status AverageValues(std::vector<double>* values);
  /// Replaces each value by its sum over ranks (e.g. per-term sample counts, stop flags).
  absl::Status SumValues(std::vector<double>* values);
  /// Replaces each value by rank 0's (float64, exact for integers below 2^53).
  absl::Status BroadcastValues(std::vector<double>* values);
  absl::Status Barrier();

 private:
  using Collective = std::function<void(std::vector<at::Tensor>&)>;
  explicit Distributed(DistributedOptions options) : options_(std::move(options)) {}
  absl::Status Run(const char* what, const Collective& op, std::vector<at::Tensor>& tensors);

  DistributedOptions options_;
  std::string backend_ = "none";
  bool host_staging_ = false;  // Gloo with CUDA tensors: reduce host copies
  std::shared_ptr<void> store_, group_;  // keep the c10d objects alive
  Collective allreduce_, broadcast_;
  std::function<void()> barrier_;
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_DISTRIBUTED_H_
