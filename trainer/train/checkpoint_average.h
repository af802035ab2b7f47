// File: checkpoint_average.h
// Uniform weight averaging of several checkpoints of one model (the last checkpoints of a run, as in
// checkpoint averaging and stochastic weight averaging): every floating parameter and buffer becomes
// the mean of the inputs' values; everything else (config, normalisation statistics, tokenizer) must be
// identical across the inputs and is kept. `mivla-train average` writes the result.
//
//   ASSIGN_OR_RETURN(checkpoint::PolicyBundle avg,
//                    AverageCheckpoints({"run/x-00003000.mivla", "run/x-00003500.mivla"}, "x-avg"));
//   RETURN_IF_ERROR(checkpoint::SaveModelCheckpoint("x-avg.mivla", avg));
//
// Errors (each names the file): INVALID_ARGUMENT for fewer than two paths or an empty version; the
// loader's errors (NOT_FOUND, DATA_LOSS, FAILED_PRECONDITION ...); FAILED_PRECONDITION "incompatible"
// for a checkpoint whose config, normalisation statistics, tokenizer or non-floating tensors differ
// from the first one's.
// Thread-safety: reentrant; loads the inputs one after another (two models in memory at a time).
#ifndef MIVLA_TRAINER_TRAIN_CHECKPOINT_AVERAGE_H_
#define MIVLA_TRAINER_TRAIN_CHECKPOINT_AVERAGE_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/checkpoint/model_checkpoint.h"

namespace mivla::trainer {

/// The mean of the checkpoints' weights as a bundle with version `model_version`; its metadata is the
/// first input's, plus "averaged_from" (the inputs' model versions, comma-separated).
absl::StatusOr<checkpoint::PolicyBundle> AverageCheckpoints(const std::vector<std::string>& paths,
                                                            const std::string& model_version);

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_CHECKPOINT_AVERAGE_H_
