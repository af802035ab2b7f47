// File: runtime_flags.h
// RuntimeFlags: the operator's choices for the model runtime, as mivla-server's flags give them (--device,
// --precision, --tokenizer, --rtc-*, --blas-threads, --cuda-graphs, --gpu-image-decode). The server only
// carries them (ServerOptions::runtime); the loader that builds each model version reads them (the
// LibTorch one: server/runtime/torch_runtime_loader.h, which checks them). Torch-free, plain data.
#ifndef MIVLA_SERVER_RUNTIME_API_RUNTIME_FLAGS_H_
#define MIVLA_SERVER_RUNTIME_API_RUNTIME_FLAGS_H_

#include <cstddef>
#include <string>

namespace mivla::server {

struct RuntimeFlags {
  std::string device = "cpu";      // cpu | cuda | cuda:N | auto (--device)
  std::string precision = "fp32";  // fp32 | bf16, CUDA only (--precision)
  std::string tokenizer_file;      // used when a checkpoint carries none (--tokenizer); "" = none
  size_t instruction_cache_capacity = 1024;
  // Real-time chunking (issue 14): the guided sampler's cap beta (--rtc-max-guidance) and its soft-masked
  // replacement step (--rtc-soft-replacement; core/model/guided_sampling.h).
  double rtc_max_guidance = 5.0;
  bool rtc_soft_replacement = true;
  // Threads of one matrix product on the CPU, process-wide (--blas-threads; core/model/blas_threads.h):
  // -1 = auto (OPENBLAS_NUM_THREADS if set, else one per core but one), 0 = the library's default.
  int blas_threads = -1;
  // The GPU path (issue 12): plain decodes replay one CUDA graph per batch bucket (--cuda-graphs;
  // core/model/graphed_sampler.h). CUDA devices and CUDA builds only. Buckets go up to
  // cuda_graph_max_batch rows (mivla-server sets it to --decode-max-batch-size).
  bool cuda_graphs = false;
  int cuda_graph_max_batch = 16;
  // The GPU path's images (--gpu-image-decode; server/runtime/device_images.h): the runtime decodes each
  // batch's JPEG images with nvJPEG and resizes them on the GPU; the server's pool passes them through.
  // CUDA devices and builds with nvJPEG only.
  bool gpu_image_decode = false;
};

}  // namespace mivla::server

#endif  // MIVLA_SERVER_RUNTIME_API_RUNTIME_FLAGS_H_
