// File: checkpoint_average.cc
#include "trainer/train/checkpoint_average.h"

#include <torch/torch.h>

#include <map>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"

namespace mivla::trainer {
namespace {

/// Every parameter and buffer of the model by its LibTorch name.
std::map<std::string, at::Tensor> NamedTensors(const checkpoint::PolicyBundle& b) {
  std::map<std::string, at::Tensor> out;
  for (const auto& p : b.model->named_parameters()) out[p.key()] = p.value();
  for (const auto& p : b.model->named_buffers()) out[p.key()] = p.value();
  return out;
}

absl::Status Incompatible(const std::string& path, const std::string& what) {
  return absl::FailedPreconditionError(
      absl::StrCat("incompatible: ", path, ": its ", what, " differs from the first checkpoint's"));
}

}  // namespace

absl::StatusOr<checkpoint::PolicyBundle> AverageCheckpoints(const std::vector<std::string>& paths,
                                                            const std::string& model_version) {
  if (paths.size() < 2) {
    return absl::InvalidArgumentError(absl::StrCat("averaging needs at least two checkpoints, got ", paths.size()));
  }
  if (model_version.empty()) return absl::InvalidArgumentError("averaging: the model version is empty");
  ASSIGN_OR_RETURN(checkpoint::PolicyBundle sum, checkpoint::LoadModelCheckpoint(paths[0]));
  torch::NoGradGuard no_grad;
  std::map<std::string, at::Tensor> acc = NamedTensors(sum);
  // Accumulated in F64 so that the mean does not depend on the order of the inputs beyond rounding.
  std::map<std::string, at::Tensor> total;
  for (const auto& [name, t] : acc) {
    if (t.is_floating_point()) total[name] = t.to(torch::kFloat64);
  }
  std::vector<std::string> versions = {sum.model_version};
  const std::string config_json = model::ConfigToJson(sum.config);
  for (size_t i = 1; i < paths.size(); ++i) {
    ASSIGN_OR_RETURN(checkpoint::PolicyBundle b, checkpoint::LoadModelCheckpoint(paths[i]));
    if (model::ConfigToJson(b.config) != config_json) return Incompatible(paths[i], "model config");
    if (!(b.normalization == sum.normalization)) return Incompatible(paths[i], "normalisation statistics");
    if (b.tokenizer_model != sum.tokenizer_model) return Incompatible(paths[i], "tokenizer");
    for (const auto& [name, t] : NamedTensors(b)) {
      auto it = acc.find(name);
      if (it == acc.end() || !it->second.sizes().equals(t.sizes())) return Incompatible(paths[i], "tensor " + name);
      if (t.is_floating_point()) {
        total[name].add_(t.to(torch::kFloat64));
      } else if (!torch::equal(t, it->second)) {
        return Incompatible(paths[i], "non-floating tensor " + name);
      }
    }
    versions.push_back(b.model_version);
  }
  const double n = static_cast<double>(paths.size());
  for (auto& [name, t] : acc) {
    if (t.is_floating_point()) t.copy_(total[name].div_(n));
  }
  sum.model_version = model_version;
  sum.metadata["averaged_from"] = absl::StrJoin(versions, ",");
  return sum;
}

}  // namespace mivla::trainer
