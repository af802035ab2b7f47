#include "core/checkpoint/model_checkpoint.h"

#include <cctype>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/checkpoint/checkpoint_file.h"
#include "core/model/safetensors.h"
#include "core/model/torch_status.h"
#include "core/util/status_macros.h"

namespace mivla::checkpoint {
namespace {

using TensorMap = std::map<std::string, torch::Tensor>;

/// Every parameter and buffer of `module` by its LibTorch name.
TensorMap ModelTensors(const torch::nn::Module& module) {
  TensorMap out;
  for (const auto& item : module.named_parameters(/*recurse=*/true)) out[item.key()] = item.value();
  for (const auto& item : module.named_buffers(/*recurse=*/true)) out[item.key()] = item.value();
  return out;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

bool IsFloatingDtypeName(const std::string& dtype) {
  return dtype == "F32" || dtype == "F64" || dtype == "F16" || dtype == "BF16";
}

absl::Status Incompatible(const std::string& path, const std::string& what) {
  return absl::FailedPreconditionError(absl::StrCat("incompatible: ", path, ": ", what));
}

absl::Status Corrupt(const std::string& path, const std::string& section, const absl::Status& cause) {
  return absl::DataLossError(absl::StrCat("corrupt: ", path, ": section '", section, "': ",
                                          std::string(cause.message())));
}

absl::StatusOr<std::string> TakeSection(const std::string& path, CheckpointContents& contents,
                                        const std::string& name) {
  auto it = contents.sections.find(name);
  if (it == contents.sections.end()) {
    return Incompatible(path, absl::StrCat("missing section '", name, "'"));
  }
  return std::move(it->second);
}

torch::ScalarType StorageType(WeightsDtype dtype) {
  switch (dtype) {
    case WeightsDtype::kF16: return torch::kFloat16;
    case WeightsDtype::kBF16: return torch::kBFloat16;
    case WeightsDtype::kF32: break;
  }
  return torch::kFloat32;
}

absl::StatusOr<std::string> SerializeWeights(const std::string& path, const PolicyBundle& bundle,
                                             const SaveOptions& options) {
  std::map<std::string, bool> is_parameter;
  for (const auto& item : bundle.model->named_parameters(/*recurse=*/true)) is_parameter[item.key()] = true;
  const torch::ScalarType storage = StorageType(options.weights_dtype);
  model::NamedTensors tensors;
  for (const auto& [name, tensor] : ModelTensors(*bundle.model)) {
    torch::Tensor t = tensor.detach().to(torch::kCPU);
    if (t.is_floating_point()) {
      t = t.to(torch::kFloat32);
      if (is_parameter.count(name) != 0 && storage != torch::kFloat32) {
        if (storage == torch::kFloat16 && t.numel() > 0) {
          const double max_abs = t.abs().max().item<double>();
          if (!(max_abs <= 65504.0)) {
            return absl::InvalidArgumentError(absl::StrCat(
                "cannot save ", path, " with F16 weights: tensor '", name, "' holds |x| = ", max_abs,
                ", beyond F16's range (65504); use BF16"));
          }
        }
        t = t.to(storage);
      }
    }
    tensors.emplace_back(name, t.contiguous());
  }
  // The F32 default writes exactly what it always did (no extra metadata key).
  std::map<std::string, std::string> metadata = {{"model_version", bundle.model_version}};
  if (options.weights_dtype != WeightsDtype::kF32) {
    metadata["weights_dtype"] = std::string(WeightsDtypeName(options.weights_dtype));
  }
  return model::SerializeSafetensors(tensors, metadata);
}

/// Checks that `file` holds exactly the tensors of `model` with their shapes, then copies them in.
absl::Status CopyWeights(const std::string& path, const model::SafetensorsFile& file,
                         torch::nn::Module& model) {
  const TensorMap expected = ModelTensors(model);
  for (const std::string& name : file.names()) {
    if (expected.count(name) == 0) {
      return Incompatible(path, absl::StrCat("unexpected tensor '", name, "' ",
                                             ShapeString(file.Find(name)->shape),
                                             " in the weights: the model described by the config has no "
                                             "such tensor"));
    }
  }
  for (const auto& [name, tensor] : expected) {
    const model::SafetensorsFile::Entry* entry = file.Find(name);
    const std::vector<int64_t> want = tensor.sizes().vec();
    if (entry == nullptr) {
      return Incompatible(path, absl::StrCat("the weights miss tensor '", name, "' (the model expects shape ",
                                             ShapeString(want), ")"));
    }
    if (entry->shape != want) {
      return Incompatible(path, absl::StrCat("tensor '", name, "' has shape ", ShapeString(entry->shape),
                                             " in the weights, the model expects ", ShapeString(want)));
    }
    ASSIGN_OR_RETURN(const std::string want_dtype, model::SafetensorsDtypeName(tensor.scalar_type()));
    const bool ok_dtype = tensor.is_floating_point() ? IsFloatingDtypeName(entry->dtype)
                                                     : entry->dtype == want_dtype;
    if (!ok_dtype) {
      return Incompatible(path, absl::StrCat("tensor '", name, "' has dtype ", entry->dtype,
                                             " in the weights, the model expects ", want_dtype));
    }
  }
  torch::NoGradGuard no_grad;
  for (const auto& [name, tensor] : expected) {
    ASSIGN_OR_RETURN(torch::Tensor value, file.Get(name));
    torch::Tensor dst = tensor;  // shares storage with the module's tensor
    dst.copy_(value);
  }
  return absl::OkStatus();
}

absl::Status Save(const std::string& path, const PolicyBundle& bundle, const SaveOptions& options) {
  if (bundle.model.is_empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot save ", path, ": the bundle has no model"));
  }
  if (bundle.model_version.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("cannot save ", path, ": empty model_version"));
  }
  if (!(bundle.model->config() == bundle.config)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot save ", path, ": bundle.config differs from the model's own config (",
        model::ConfigToJson(bundle.config), " vs ", model::ConfigToJson(bundle.model->config()), ")"));
  }
  CheckpointContents contents;
  contents.model_version = bundle.model_version;
  contents.metadata = bundle.metadata;
  contents.sections[kConfigSection] = model::ConfigToJson(bundle.config);
  contents.sections[kNormalizationSection] = bundle.normalization.ToJson();
  contents.sections[kTokenizerSection] = bundle.tokenizer_model;
  ASSIGN_OR_RETURN(contents.sections[kWeightsSection], SerializeWeights(path, bundle, options));
  return WriteCheckpointFile(path, contents);
}

absl::StatusOr<PolicyBundle> Load(const std::string& path, const c10::Device& device) {
  ASSIGN_OR_RETURN(CheckpointContents contents, ReadCheckpointFile(path));
  // Every section is looked up before any is parsed, so a missing section is reported as such.
  ASSIGN_OR_RETURN(std::string config_json, TakeSection(path, contents, kConfigSection));
  ASSIGN_OR_RETURN(std::string stats_json, TakeSection(path, contents, kNormalizationSection));
  ASSIGN_OR_RETURN(std::string tokenizer, TakeSection(path, contents, kTokenizerSection));
  ASSIGN_OR_RETURN(std::string weights, TakeSection(path, contents, kWeightsSection));

  PolicyBundle bundle;
  bundle.model_version = std::move(contents.model_version);
  bundle.metadata = std::move(contents.metadata);
  bundle.tokenizer_model = std::move(tokenizer);

  absl::StatusOr<model::ModelConfig> config = model::ConfigFromJson(config_json);
  if (!config.ok()) return Corrupt(path, kConfigSection, config.status());
  if (absl::Status valid = model::ValidateConfig(*config); !valid.ok()) {
    return Corrupt(path, kConfigSection, valid);
  }
  bundle.config = *std::move(config);

  absl::StatusOr<action::NormalizationStats> stats = action::NormalizationStats::FromJson(stats_json);
  if (!stats.ok()) return Corrupt(path, kNormalizationSection, stats.status());
  bundle.normalization = *std::move(stats);

  absl::StatusOr<model::SafetensorsFile> file =
      model::SafetensorsFile::Parse(std::move(weights), absl::StrCat(path, ":", kWeightsSection));
  if (!file.ok()) return Corrupt(path, kWeightsSection, file.status());

  model::MivlaModel model(bundle.config);
  RETURN_IF_ERROR(CopyWeights(path, *file, *model));
  model->to(device);
  model->eval();
  bundle.model = std::move(model);
  return bundle;
}

}  // namespace

absl::StatusOr<WeightsDtype> ParseWeightsDtype(std::string_view name) {
  std::string n(name);
  for (char& c : n) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (n == "f32" || n == "fp32" || n == "float32") return WeightsDtype::kF32;
  if (n == "f16" || n == "fp16" || n == "float16") return WeightsDtype::kF16;
  if (n == "bf16" || n == "bfloat16") return WeightsDtype::kBF16;
  return absl::InvalidArgumentError(absl::StrCat("weights dtype '", std::string(name), "': want f32, f16 or bf16"));
}

std::string_view WeightsDtypeName(WeightsDtype dtype) {
  switch (dtype) {
    case WeightsDtype::kF16: return "F16";
    case WeightsDtype::kBF16: return "BF16";
    case WeightsDtype::kF32: break;
  }
  return "F32";
}

absl::Status SaveModelCheckpoint(const std::string& path, const PolicyBundle& bundle, const SaveOptions& options) {
  return model::CatchTorchErrors(absl::StrCat("cannot save ", path), [&] { return Save(path, bundle, options); });
}

absl::StatusOr<PolicyBundle> LoadModelCheckpoint(const std::string& path, const c10::Device& device) {
  return model::CatchTorchErrors(absl::StrCat("cannot load ", path), [&] { return Load(path, device); });
}

absl::StatusOr<std::string> PeekModelVersion(const std::string& path) {
  return model::CatchTorchErrors(absl::StrCat("cannot read ", path), [&]() -> absl::StatusOr<std::string> {
    ASSIGN_OR_RETURN(CheckpointHeader header, ReadCheckpointHeader(path));
    return std::move(header.model_version);
  });
}

}  // namespace mivla::checkpoint
