// The precompiled header shared by every LibTorch-heavy target (compiled once by mivla_torch_pch and
// reused by the others through REUSE_FROM). Source files still include what they use.
#ifndef MIVLA_CORE_MODEL_TORCH_PCH_H_
#define MIVLA_CORE_MODEL_TORCH_PCH_H_
#include <torch/torch.h>
#endif  // MIVLA_CORE_MODEL_TORCH_PCH_H_
