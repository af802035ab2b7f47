#include "server/runtime/torch_runtime_loader.h"

#include <torch/torch.h>

#include <utility>

#include "absl/strings/str_cat.h"
#include "core/model/blas_threads.h"
#include "core/model/graphed_sampler.h"
#include "core/util/log.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "server/runtime/torch_policy_runtime.h"

namespace mivla::server {
namespace {

class TorchRuntimeLoader : public RuntimeLoader {
 public:
  explicit TorchRuntimeLoader(TorchPolicyRuntime::Options options) : options_(std::move(options)) {}

  absl::StatusOr<std::unique_ptr<PolicyRuntime>> Load(const RuntimeSource& source) const override {
    checkpoint::PolicyBundle bundle;
    if (source.random_init) {
      ASSIGN_OR_RETURN(model::ModelConfig config, model::ConfigByName(source.config));
      torch::manual_seed(source.seed);
      bundle.model_version = absl::StrCat("random-init-", config.name, "-seed", source.seed);
      bundle.config = config;
      bundle.model = model::MivlaModel(config);
      bundle.metadata["random_init"] = "true";
    } else {
      ASSIGN_OR_RETURN(bundle, checkpoint::LoadModelCheckpoint(source.checkpoint_path, c10::kCPU));
    }
    ASSIGN_OR_RETURN(std::unique_ptr<TorchPolicyRuntime> runtime, TorchPolicyRuntime::Create(std::move(bundle), options_));
    return std::unique_ptr<PolicyRuntime>(std::move(runtime));
  }

 private:
  const TorchPolicyRuntime::Options options_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<const RuntimeLoader>> MakeTorchRuntimeLoader(const RuntimeFlags& flags) {
  TorchPolicyRuntime::Options o;
  ASSIGN_OR_RETURN(o.runtime, model::ParseRuntimeOptions(flags.device, flags.precision));
  o.instruction_cache_capacity = flags.instruction_cache_capacity;
  if (!(flags.rtc_max_guidance >= 0 && flags.rtc_max_guidance <= 1e3)) {
    return absl::InvalidArgumentError(absl::StrCat("--rtc-max-guidance: ", flags.rtc_max_guidance, " is not in [0, 1000]"));
  }
  o.inpainting.max_guidance = flags.rtc_max_guidance;
  o.inpainting.soft_replacement = flags.rtc_soft_replacement;
  if (flags.cuda_graphs) {
    if (!o.runtime.device.is_cuda()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--cuda-graphs: needs a CUDA --device; the device is '", o.runtime.device.str(), "'"));
    }
    if (!model::GraphedSampler::CudaGraphsBuilt()) {
      return absl::FailedPreconditionError(
          "--cuda-graphs: this mivla-server was built without CUDA graphs (build against a CUDA LibTorch)");
    }
    if (flags.cuda_graph_max_batch < 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("--cuda-graphs: the largest batch is ", flags.cuda_graph_max_batch, "; want at least 1"));
    }
    o.cuda_graph_max_batch = flags.cuda_graph_max_batch;
  }
  if (flags.gpu_image_decode) {
    if (!o.runtime.device.is_cuda()) {
      return absl::InvalidArgumentError(
          absl::StrCat("--gpu-image-decode: needs a CUDA --device; the device is '", o.runtime.device.str(), "'"));
    }
    absl::StatusOr<std::unique_ptr<JpegDecoder>> decoder = MakeNvjpegDecoder(o.runtime.device);
    if (!decoder.ok()) {
      return absl::FailedPreconditionError(absl::StrCat("--gpu-image-decode: ", decoder.status().message()));
    }
    o.jpeg_decoder = *std::move(decoder);
  }
  ASSIGN_OR_RETURN(const int blas_threads, model::ApplyBlasThreads(flags.blas_threads));
  LogInfo("runtime", absl::StrCat("BLAS threads per matrix product: ", blas_threads, " (--blas-threads ",
                                  flags.blas_threads, ", ", model::UsableCpus(), " usable CPUs)"));
  if (!flags.tokenizer_file.empty()) {
    absl::StatusOr<std::string> model = ReadFile(flags.tokenizer_file);
    if (!model.ok()) {
      return WithPrefix(model.status(), "--tokenizer: ");
    }
    if (model->empty()) {
      return absl::InvalidArgumentError(absl::StrCat("--tokenizer: '", flags.tokenizer_file, "' is empty"));
    }
    o.fallback_tokenizer = *std::move(model);
  }
  return std::shared_ptr<const RuntimeLoader>(std::make_shared<TorchRuntimeLoader>(std::move(o)));
}

}  // namespace mivla::server
