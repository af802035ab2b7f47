#include "trainer/train/model_setup.h"

#include <torch/torch.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/checkpoint_file.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/hf_config.h"
#include "core/model/hf_import.h"
#include "core/model/safetensors.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::trainer {

namespace {
namespace fs = std::filesystem;

// The bundled tokenizer: from the working directory, else from the executable's directory upwards.
std::string FindBundledTokenizer() {
  if (fs::exists(tokenizer::kTinyTokenizerModelPath)) return tokenizer::kTinyTokenizerModelPath;
  std::error_code ec;
  fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
  for (int up = 0; !ec && up <= 4 && !dir.empty(); ++up, dir = dir.parent_path()) {
    if (fs::exists(dir / tokenizer::kTinyTokenizerModelPath)) return (dir / tokenizer::kTinyTokenizerModelPath).string();
    if (dir == dir.root_path()) break;
  }
  return "";
}

// The first leaf of `patch` whose value `merged` does not hold ("" when all do), as a dotted path.
std::string FirstMissingLeaf(const nlohmann::json& patch, const nlohmann::json& merged, const std::string& prefix) {
  for (auto it = patch.begin(); it != patch.end(); ++it) {
    const std::string path = prefix.empty() ? it.key() : absl::StrCat(prefix, ".", it.key());
    if (!merged.is_object() || !merged.contains(it.key())) return path;
    if (it->is_object()) {
      std::string missing = FirstMissingLeaf(*it, merged.at(it.key()), path);
      if (!missing.empty()) return missing;
    } else if (merged.at(it.key()) != *it) {
      return path;
    }
  }
  return "";
}

}  // namespace

absl::StatusOr<model::ModelConfig> ConfigWithOverrides(const TrainConfig& config) {
  ASSIGN_OR_RETURN(model::ModelConfig base, model::ConfigByName(config.model));
  if (config.model_overrides.empty()) return base;
  if (!config.model_overrides.is_object()) {
    return absl::InvalidArgumentError("model_overrides: must be a JSON object");
  }
  nlohmann::json merged = nlohmann::json::parse(model::ConfigToJson(base));
  merged.merge_patch(config.model_overrides);
  absl::StatusOr<model::ModelConfig> mc = model::ConfigFromJson(merged.dump());
  if (!mc.ok()) return absl::InvalidArgumentError(absl::StrCat("model_overrides: ", mc.status().message()));
  // ConfigFromJson ignores unknown keys; an override must not be dropped silently (a misspelt key).
  const nlohmann::json back = nlohmann::json::parse(model::ConfigToJson(*mc));
  const std::string missing = FirstMissingLeaf(config.model_overrides, back, "");
  if (!missing.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("model_overrides.", missing,
                                                   ": not a field of the model config, or a value it cannot hold"));
  }
  absl::Status valid = model::ValidateConfig(*mc);
  if (!valid.ok()) return absl::InvalidArgumentError(absl::StrCat("model_overrides: ", valid.message()));
  return *mc;
}

absl::StatusOr<std::string> ResolveTokenizerModel(const TrainConfig& config, TrainMode mode) {
  std::string path = config.tokenizer;
  if (path.empty()) {
    if (mode == TrainMode::kFinetune) return std::string();
    path = FindBundledTokenizer();
    if (path.empty()) {
      return absl::InvalidArgumentError(absl::StrCat(
          "data.tokenizer: empty, and the bundled ", tokenizer::kTinyTokenizerModelPath,
          " is found neither from the working directory nor beside mivla-train; name a SentencePiece model"));
    }
  }
  auto tok = tokenizer::Tokenizer::FromFile(path);
  if (!tok.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("data.tokenizer: '", path, "': ", tok.status().message()));
  }
  return (*tok)->serialized_model();
}

namespace {

void WarnNoConfig(const char* field, const std::string& path) {
  LogWarning("train", absl::StrCat(field, " '", path, "': no config.json beside it, so the attention heads and ",
                                   "epsilons the weights cannot tell are the model config's; put the model's ",
                                   "config.json in that folder"));
}

// An encoder's config: sizes from the weights' shapes, then what no shape tells from the HF config.json
// beside them (hf_config.h); without one the model config's heads and epsilons stand, which the log says.
template <typename EncoderConfig>
absl::StatusOr<EncoderConfig> EncoderConfigFor(const char* field, const std::string& path,
                                               const model::SafetensorsFile& file, EncoderConfig defaults) {
  absl::StatusOr<std::optional<nlohmann::json>> hf = model::ReadHfConfigBeside(path);
  if (!hf.ok()) return WithPrefix(hf.status(), absl::StrCat(field, ": "));
  constexpr bool kVit = std::is_same_v<EncoderConfig, model::VitConfig>;
  if constexpr (kVit) {
    if (hf->has_value()) defaults.heads = 1;  // the config.json sets them; until then any width must do
  }
  absl::StatusOr<EncoderConfig> config;
  if constexpr (kVit) {
    config = model::InferVitConfig(file, defaults);
  } else {
    config = model::InferT5Config(file, defaults);
  }
  if (!config.ok() || !hf->has_value()) {
    if (config.ok()) WarnNoConfig(field, path);
    return config;
  }
  absl::Status applied;
  if constexpr (kVit) {
    applied = model::ApplyHfVitConfig(**hf, path, &*config);
  } else {
    applied = model::ApplyHfT5Config(**hf, path, &*config);
  }
  if (!applied.ok()) return WithPrefix(applied, absl::StrCat(field, ": "));
  return config;
}

}  // namespace

absl::StatusOr<std::string> CheckpointFingerprint(const std::string& path) {
  ASSIGN_OR_RETURN(checkpoint::CheckpointHeader h, checkpoint::ReadCheckpointHeader(path));
  std::string text = h.model_version + "\n";
  for (const checkpoint::SectionInfo& s : h.sections)
    absl::StrAppend(&text, s.name, "\t", s.size, "\t", s.crc32c, "\n");
  return Fnv1aHex(text);
}

absl::StatusOr<InitialModel> BuildInitialModel(const TrainConfig& config, TrainMode mode) {
  InitialModel out;
  ASSIGN_OR_RETURN(out.tokenizer_model, ResolveTokenizerModel(config, mode));
  if (mode == TrainMode::kFinetune) {
    if (config.init_checkpoint.empty()) {
      return absl::InvalidArgumentError("finetune needs init_checkpoint (a pre-trained .mivla file)");
    }
    ASSIGN_OR_RETURN(checkpoint::PolicyBundle bundle, checkpoint::LoadModelCheckpoint(config.init_checkpoint));
    out.model = bundle.model;
    if (config.keep_normalization) out.normalization = bundle.normalization;
    if (out.tokenizer_model.empty()) out.tokenizer_model = bundle.tokenizer_model;
    if (out.tokenizer_model.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("data.tokenizer: empty, and ", config.init_checkpoint,
                                                     " stores no tokenizer; name a SentencePiece model"));
    }
    out.origin = config.init_checkpoint;
    ASSIGN_OR_RETURN(out.init_fingerprint, CheckpointFingerprint(config.init_checkpoint));
  } else {
    if (!config.init_checkpoint.empty()) {
      return absl::InvalidArgumentError("pretrain starts from a fresh model: init_checkpoint is for finetune");
    }
    ASSIGN_OR_RETURN(model::ModelConfig mc, ConfigWithOverrides(config));
    std::optional<model::SafetensorsFile> dino, siglip, t5;
    if (!config.hf_dinov2.empty()) {
      ASSIGN_OR_RETURN(dino, model::SafetensorsFile::Open(config.hf_dinov2));
      ASSIGN_OR_RETURN(mc.dino, EncoderConfigFor("encoders.hf_dinov2", config.hf_dinov2, *dino, mc.dino));
    }
    if (!config.hf_siglip.empty()) {
      ASSIGN_OR_RETURN(siglip, model::SafetensorsFile::Open(config.hf_siglip));
      ASSIGN_OR_RETURN(mc.siglip, EncoderConfigFor("encoders.hf_siglip", config.hf_siglip, *siglip, mc.siglip));
    }
    if (!config.hf_t5.empty()) {
      ASSIGN_OR_RETURN(t5, model::SafetensorsFile::Open(config.hf_t5));
      ASSIGN_OR_RETURN(mc.text, EncoderConfigFor("encoders.hf_t5", config.hf_t5, *t5, mc.text));
    }
    RETURN_IF_ERROR(model::ValidateConfig(mc));
    torch::manual_seed(config.seed);
    out.model = model::MivlaModel(mc);
    if (dino) RETURN_IF_ERROR(model::ImportHfVit(*dino, *out.model->dino()));
    if (siglip) RETURN_IF_ERROR(model::ImportHfVit(*siglip, *out.model->siglip()));
    if (t5) RETURN_IF_ERROR(model::ImportHfT5(*t5, *out.model->text_encoder()));
    // Frozen encoders without imported weights stay random: the decoder then learns from fixed random
    // features. Allowed (smoke runs, tests), but said loudly.
    const bool random_vision = config.freeze_vision && !dino && !siglip;
    const bool random_text = config.freeze_text && !t5;
    if (random_vision || random_text) {
      LogWarning("train", absl::StrCat(
          "WARNING: pre-training with FROZEN RANDOM ", random_vision ? "vision" : "",
          random_vision && random_text ? " and " : "", random_text ? "text" : "",
          " encoder(s): no HuggingFace weights given (encoders.hf_dinov2 / hf_siglip / hf_t5), so the model "
          "learns from fixed random features; set the files or unfreeze the encoders"));
    }
    out.origin = absl::StrCat(mc.name, " (fresh", dino || siglip || t5 ? ", HuggingFace encoders" : "", ")");
  }
  out.model->SetFrozen(config.freeze_vision, config.freeze_text);
  out.model->train();
  return out;
}

}  // namespace mivla::trainer
