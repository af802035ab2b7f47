#include "trainer/train/model_setup.h"

#include <fstream>
#include <sstream>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/hf_import.h"
#include "core/model/safetensors.h"
#include "core/util/status_macros.h"

namespace mivla::trainer {

absl::StatusOr<InitialModel> BuildInitialModel(const TrainConfig& config, TrainMode mode) {
  InitialModel out;
  if (!config.tokenizer.empty()) {
    std::ifstream in(config.tokenizer, std::ios::binary);
    if (!in) return absl::NotFoundError(absl::StrCat(config.tokenizer, ": cannot read the tokenizer model"));
    std::stringstream ss;
    ss << in.rdbuf();
    out.tokenizer_model = ss.str();
  }
  if (mode == TrainMode::kFinetune) {
    if (config.init_checkpoint.empty()) {
      return absl::InvalidArgumentError("finetune needs init_checkpoint (a pre-trained .mivla file)");
    }
    ASSIGN_OR_RETURN(checkpoint::PolicyBundle bundle, checkpoint::LoadModelCheckpoint(config.init_checkpoint));
    out.model = bundle.model;
    if (config.keep_normalization) out.normalization = bundle.normalization;
    if (out.tokenizer_model.empty()) out.tokenizer_model = bundle.tokenizer_model;
    out.origin = config.init_checkpoint;
  } else {
    if (!config.init_checkpoint.empty()) {
      return absl::InvalidArgumentError("pretrain starts from a fresh model: init_checkpoint is for finetune");
    }
    ASSIGN_OR_RETURN(model::ModelConfig mc, model::ConfigByName(config.model));
    std::optional<model::SafetensorsFile> dino, siglip, t5;
    if (!config.hf_dinov2.empty()) {
      ASSIGN_OR_RETURN(dino, model::SafetensorsFile::Open(config.hf_dinov2));
      ASSIGN_OR_RETURN(mc.dino, model::InferVitConfig(*dino, mc.dino));
    }
    if (!config.hf_siglip.empty()) {
      ASSIGN_OR_RETURN(siglip, model::SafetensorsFile::Open(config.hf_siglip));
      ASSIGN_OR_RETURN(mc.siglip, model::InferVitConfig(*siglip, mc.siglip));
    }
    if (!config.hf_t5.empty()) {
      ASSIGN_OR_RETURN(t5, model::SafetensorsFile::Open(config.hf_t5));
      ASSIGN_OR_RETURN(mc.text, model::InferT5Config(*t5, mc.text));
    }
    RETURN_IF_ERROR(model::ValidateConfig(mc));
    torch::manual_seed(config.seed);
    out.model = model::MivlaModel(mc);
    if (dino) RETURN_IF_ERROR(model::ImportHfVit(*dino, *out.model->dino()));
    if (siglip) RETURN_IF_ERROR(model::ImportHfVit(*siglip, *out.model->siglip()));
    if (t5) RETURN_IF_ERROR(model::ImportHfT5(*t5, *out.model->text_encoder()));
    out.origin = absl::StrCat(mc.name, " (fresh", dino || siglip || t5 ? ", HuggingFace encoders" : "", ")");
  }
  out.model->SetFrozen(config.freeze_vision, config.freeze_text);
  out.model->train();
  return out;
}

}  // namespace mivla::trainer
