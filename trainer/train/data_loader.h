// File: data_loader.h
// The trainer's data loader: datasets from a weighted mix of sources (EgoDex-layout human data,
// RoboTwin-layout robot data, native episodes; the format is detected per file), each episode given its
// mutual-imitation complements (core/data/complements.h), resampled from its own frame rate to the
// model's control rate (resample.h), and kept in memory in a compact form (train_episode.h: states and
// masks, and each kept camera frame downsized to image_size, JPEG-encoded). Worker threads build whole
// batches: draw the samples (data_mix.h), decode and augment their images (augment.h), tokenise a
// phrasing of the instruction and normalise (collator.h), into a bounded queue read in index order.
//
// Determinism: batch i is a pure function of (seed, i, rank, world_size, the data). Global batch i has
// B * world_size samples; sample j of it draws from its own generator seeded by (seed, i, j), and rank r
// takes samples [r*B, (r+1)*B). So SeekTo(k) then Next() equals the k-th Next() of a fresh loader, and
// two ranks together see exactly the samples of one rank with the doubled batch size.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<DataLoader> loader, DataLoader::Create(options));
//   ASSIGN_OR_RETURN(TrainBatch batch, loader->Next());  // batch.index == 0
//
// Thread-safety: Next, SeekTo and next_index are meant for one consumer thread (they are internally
// synchronised, so calls from several threads are safe but interleave). MakeBatch is thread-safe.
#ifndef MIVLA_TRAINER_TRAIN_DATA_LOADER_H_
#define MIVLA_TRAINER_TRAIN_DATA_LOADER_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "core/action/normalizer.h"
#include "core/data/complements.h"
#include "core/data/episode_loader.h"
#include "trainer/train/augment.h"
#include "trainer/train/grasp_weights.h"
#include "trainer/train/train_batch.h"

namespace mivla::trainer {

struct DataSource {
  std::string name;    // e.g. "human", "sim_robot"
  std::string path;    // a dataset directory (any supported format, detected per file)
  double weight = 1.0; // sampling weight of this source in the mix (> 0)
  action::Embodiment robotwin_embodiment = action::Embodiment::kAlohaAgilex;  // RoboTwin files without a tag
  std::string complement_cache_dir{};  // "" = LoaderOptions::complements.cache_dir (keyed relative to path)
  std::optional<double> grasp_boost{};  // this source's grasp_boost factor; unset = LoaderOptions::grasp_boost's
};

struct LoaderOptions {
  std::vector<DataSource> sources;
  int batch_size = 16;          // per rank
  int workers = 2;              // batch-building threads (also the loading threads); 0 = build in Next()
  int prefetch_batches = 4;     // bound on batches built ahead of Next()
  uint64_t seed = 0;
  int rank = 0, world_size = 1; // rank r gets its own disjoint share of every global batch
  double control_rate_hz = 10;  // the model's rate: episodes are resampled from their own fps to it
  int horizon = 16;
  int image_size = 56;          // square images given to the model (squashed, as the server does)
  int max_views = 3;
  std::vector<std::string> cameras;  // view order by name (e.g. head_camera, right_camera); an episode's
                                     // other cameras follow in file order; at most max_views are kept
  int max_text_tokens = 32;
  std::string tokenizer_path;   // SentencePiece model file
  std::string tokenizer_model;  // or its bytes (used when not empty; mivla-train passes the checkpoint's)
  AugmentOptions augment;
  data::ComplementOptions complements;
  const action::NormalizationStats* normalization = nullptr;  // null = compute from the training data
  std::function<void(const std::string&)> on_progress;       // loading progress lines (may be empty)
  int frame_jpeg_quality = 95;  // in-memory frames: JPEG quality 1..100, or 0 to keep raw RGB
  GraspBoost grasp_boost;       // draw the frames around robot grasps more often (grasp_weights.h)
};

struct LoadReport {
  struct Src {
    std::string name;
    int episodes = 0;
    int frames = 0;          // frames after resampling to control_rate_hz (observation frames)
    int raw_frames = 0;      // frames in the files
    int ik_failures = 0;     // complement frames left out because IK failed
    int complements_cached = 0;  // episodes whose complements came from the cache
    int grasps = 0;              // gripper closings found (grasp_weights.h; counted when grasp_boost is on)
    int grasp_frames = 0;        // drawable frames weighted by grasp_boost.factor
  };
  std::vector<Src> sources;
  std::vector<data::DatasetError> skipped;  // corrupt / unreadable episode files, with the reason
  int64_t frame_bytes = 0;                  // memory held by the in-memory frames
  double seconds = 0;                       // loading time
};

/// `kept` (a fine-tune checkpoint's statistics) with every (embodiment, dimension) it has never seen
/// (count 0) taken from `from_data` where the data has it; the rest, and kept's mode, unchanged.
/// `filled` (may be null) receives the number of dimensions taken from the data. Without this a new
/// embodiment's values would only be shifted, never scaled.
action::NormalizationStats FillUnseenStats(const action::NormalizationStats& kept,
                                           const action::NormalizationStats& from_data, int* filled = nullptr);

class DataLoader {
 public:
  /// Loads every source, computes normalisation (a given one is kept, its unseen dimensions filled from
  /// the data: FillUnseenStats) and starts the workers. Errors: no
  /// sources, a bad option (named), a missing or empty source directory, a source with no loadable
  /// episode, a tokenizer that does not load.
  static absl::StatusOr<std::unique_ptr<DataLoader>> Create(LoaderOptions options);
  ~DataLoader();  // joins the workers
  DataLoader(const DataLoader&) = delete;
  DataLoader& operator=(const DataLoader&) = delete;

  const action::NormalizationStats& normalization() const;
  const LoadReport& report() const;
  const LoaderOptions& options() const { return options_; }

  /// The next batch in index order (blocks until a worker has built it).
  absl::StatusOr<TrainBatch> Next();
  /// Drops prefetched batches; the next Next() returns batch `batch_index`.
  absl::Status SeekTo(uint64_t batch_index);
  uint64_t next_index() const;

  /// Builds batch `batch_index` of this rank on the calling thread (what the workers run).
  absl::StatusOr<TrainBatch> MakeBatch(uint64_t batch_index) const;

 private:
  class Impl;
  DataLoader(LoaderOptions options, std::unique_ptr<Impl> impl);
  LoaderOptions options_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace mivla::trainer

#endif  // MIVLA_TRAINER_TRAIN_DATA_LOADER_H_
