#include "server/runtime/random_checkpoint.h"

#include <torch/torch.h>

#include "core/checkpoint/model_checkpoint.h"
#include "core/util/status_macros.h"

namespace mivla::server {

absl::Status WriteRandomCheckpoint(const std::string& path, const std::string& version, const std::string& config,
                                   uint64_t seed, const std::string& tokenizer_model) {
  checkpoint::PolicyBundle b;
  b.model_version = version;
  ASSIGN_OR_RETURN(b.config, model::ConfigByName(config));
  torch::manual_seed(seed);
  b.model = model::MivlaModel(b.config);
  b.tokenizer_model = tokenizer_model;
  return checkpoint::SaveModelCheckpoint(path, b);
}

}  // namespace mivla::server
