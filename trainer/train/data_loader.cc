#include "trainer/train/data_loader.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "core/data/egodex_format.h"
#include "core/data/normalization.h"
#include "core/data/sample_reader.h"
#include "core/tokenizer/tokenizer.h"
#include "core/util/status_prefix.h"
#include "trainer/train/collator.h"
#include "trainer/train/data_mix.h"
#include "trainer/train/train_episode.h"

namespace mivla::trainer {
namespace {

absl::Status ValidateOptions(const LoaderOptions& o) {
  if (o.sources.empty()) return absl::InvalidArgumentError("data loader: no sources");
  std::set<std::string> names;
  for (const DataSource& s : o.sources) {
    if (s.name.empty()) return absl::InvalidArgumentError(absl::StrCat("data loader: source at '", s.path, "' has no name"));
    if (!names.insert(s.name).second) {
      return absl::InvalidArgumentError(absl::StrCat("data loader: source name '", s.name, "' is used twice"));
    }
    if (!(s.weight > 0) || !std::isfinite(s.weight)) {
      return absl::InvalidArgumentError(
          absl::StrCat("data loader: source '", s.name, "': weight ", s.weight, " must be > 0"));
    }
    if (s.grasp_boost && (!(*s.grasp_boost > 0) || !std::isfinite(*s.grasp_boost))) {
      return absl::InvalidArgumentError(
          absl::StrCat("data loader: source '", s.name, "': grasp_boost ", *s.grasp_boost, " must be > 0"));
    }
  }
  auto positive = [](int v, const char* name) -> absl::Status {
    if (v >= 1) return absl::OkStatus();
    return absl::InvalidArgumentError(absl::StrCat("data loader: ", name, " ", v, " must be >= 1"));
  };
  for (auto [v, name] : {std::pair{o.batch_size, "batch_size"}, {o.prefetch_batches, "prefetch_batches"},
                         {o.horizon, "horizon"}, {o.image_size, "image_size"}, {o.max_views, "max_views"},
                         {o.max_text_tokens, "max_text_tokens"}, {o.world_size, "world_size"}}) {
    if (auto s = positive(v, name); !s.ok()) return s;
  }
  if (o.workers < 0) return absl::InvalidArgumentError(absl::StrCat("data loader: workers ", o.workers, " < 0"));
  if (o.rank < 0 || o.rank >= o.world_size) {
    return absl::InvalidArgumentError(
        absl::StrCat("data loader: rank ", o.rank, " outside [0, world_size ", o.world_size, ")"));
  }
  if (!(o.control_rate_hz > 0) || !std::isfinite(o.control_rate_hz)) {
    return absl::InvalidArgumentError(absl::StrCat("data loader: control_rate_hz ", o.control_rate_hz, " must be > 0"));
  }
  if (o.frame_jpeg_quality < 0 || o.frame_jpeg_quality > 100) {
    return absl::InvalidArgumentError(
        absl::StrCat("data loader: frame_jpeg_quality ", o.frame_jpeg_quality, " outside 0..100"));
  }
  const GraspBoost& g = o.grasp_boost;
  if (!(g.factor > 0) || !std::isfinite(g.factor) || !(g.before_s >= 0) || !std::isfinite(g.before_s) ||
      !(g.after_s >= 0) || !std::isfinite(g.after_s)) {
    return absl::InvalidArgumentError(absl::StrCat("data loader: grasp_boost factor ", g.factor, ", before_s ",
                                                   g.before_s, ", after_s ", g.after_s,
                                                   ": the factor must be > 0 and the windows >= 0"));
  }
  return absl::OkStatus();
}

// Observation frames a sample may start at: all but the last (whose chunk would be padding only).
int DrawableFrames(const TrainEpisode& e) { return std::max(1, e.num_frames() - 1); }

}  // namespace

class DataLoader::Impl {
 public:
  struct Source {
    std::string name;
    std::vector<TrainEpisode> episodes;
  };

  const LoaderOptions* options = nullptr;  // owned by the DataLoader
  std::unique_ptr<tokenizer::Tokenizer> tokenizer;
  action::NormalizationStats stats;
  LoadReport report;
  std::vector<Source> sources;
  std::unique_ptr<DataMix> mix;
  std::unique_ptr<Collator> collator;

  absl::Status Load();
  absl::StatusOr<TrainBatch> MakeBatch(uint64_t index) const;
  void StartWorkers();
  void StopWorkers();
  absl::StatusOr<TrainBatch> Next();
  void SeekTo(uint64_t index);
  uint64_t next_index() const {
    absl::MutexLock lock(&mu_);
    return next_index_;
  }

 private:
  void WorkerLoop();

  mutable absl::Mutex mu_;
  uint64_t next_index_ ABSL_GUARDED_BY(mu_) = 0;  // the batch Next() returns
  uint64_t next_claim_ ABSL_GUARDED_BY(mu_) = 0;  // the batch the next idle worker builds
  uint64_t generation_ ABSL_GUARDED_BY(mu_) = 0;  // bumped by SeekTo: older results are dropped
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::map<uint64_t, absl::StatusOr<TrainBatch>> ready_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

absl::Status DataLoader::Impl::Load() {
  const LoaderOptions& o = *options;
  const auto start = std::chrono::steady_clock::now();
  struct File {
    int source;
    std::string path;
  };
  std::vector<File> files;
  for (size_t s = 0; s < o.sources.size(); ++s) {
    const DataSource& src = o.sources[s];
    std::error_code ec;
    if (!std::filesystem::is_directory(src.path, ec)) {
      return absl::NotFoundError(
          absl::StrCat("data loader: source '", src.name, "': directory '", src.path, "' does not exist"));
    }
    auto listed = data::ListEpisodeFiles(src.path);
    if (!listed.ok()) {
      return WithPrefix(listed.status(), absl::StrCat("data loader: source '", src.name, "': "));
    }
    if (listed->empty()) {
      return absl::NotFoundError(absl::StrCat("data loader: source '", src.name, "': no episode files (*.hdf5, *.h5) under '",
                                              src.path, "'"));
    }
    for (std::string& p : *listed) files.push_back({static_cast<int>(s), std::move(p)});
  }

  TrainEpisodeOptions episode_options;
  episode_options.control_rate_hz = o.control_rate_hz;
  episode_options.image_size = o.image_size;
  episode_options.max_views = o.max_views;
  episode_options.cameras = o.cameras;
  episode_options.jpeg_quality = o.frame_jpeg_quality;

  // Load in parallel; results land in file order, so everything after is independent of timing.
  std::vector<absl::StatusOr<TrainEpisode>> loaded(files.size(), absl::UnknownError("not loaded"));
  std::vector<data::ComplementReport> complement_reports(files.size());
  std::atomic<size_t> next{0};
  absl::Mutex progress_mu;
  int done = 0;
  auto load_one = [&](size_t k) {
    const File& f = files[k];
    data::LoadOptions load;
    load.robotwin_default_embodiment = o.sources[f.source].robotwin_embodiment;
    load.embodiment_dir = o.complements.embodiment_dir;
    // EgoDex video is streamed: the episode loads without frames and only the kept ones are decoded
    // into memory (an mp4 at 1080p would otherwise be held whole while it is downsized).
    auto format = data::DetectFormat(f.path);
    const bool stream = format.ok() && *format == data::EpisodeFormat::kEgoDex &&
                        std::filesystem::exists(data::EgoDexVideoPath(f.path));
    load.load_images = !stream;
    data::ComplementOptions complements = o.complements;
    complements.dataset_root = o.sources[f.source].path;
    if (!o.sources[f.source].complement_cache_dir.empty()) {
      complements.cache_dir = o.sources[f.source].complement_cache_dir;
    }
    auto episode = data::LoadEpisodeWithComplements(f.path, load, complements, &complement_reports[k]);
    if (!episode.ok()) {
      loaded[k] = episode.status();
    } else {
      loaded[k] = MakeTrainEpisode(std::move(*episode), episode_options,
                                   stream ? data::EgoDexVideoPath(f.path) : std::string());
    }
    absl::MutexLock lock(&progress_mu);
    ++done;
    if (o.on_progress) {
      o.on_progress(loaded[k].ok()
                        ? absl::StrFormat("[%s] %d/%d %s: %d frames at %g Hz", o.sources[f.source].name, done,
                                          files.size(), f.path, loaded[k]->num_frames(), o.control_rate_hz)
                        : absl::StrFormat("[%s] %d/%d skipping %s: %s", o.sources[f.source].name, done,
                                          files.size(), f.path, loaded[k].status().message()));
    }
  };
  const int threads = std::max(1, std::min<int>(o.workers, static_cast<int>(files.size())));
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t k = next++; k < files.size(); k = next++) load_one(k);
    });
  }
  for (std::thread& t : pool) t.join();

  sources.resize(o.sources.size());
  report.sources.resize(o.sources.size());
  std::vector<std::vector<int>> frames(o.sources.size());
  // Per source: its grasp boost, and its frames' weights where that is on (else it draws uniformly).
  std::vector<GraspBoost> boosts(o.sources.size(), o.grasp_boost);
  for (size_t s = 0; s < o.sources.size(); ++s) {
    if (o.sources[s].grasp_boost) boosts[s].factor = *o.sources[s].grasp_boost;
  }
  std::vector<std::vector<std::vector<double>>> frame_weights(o.sources.size());
  for (size_t s = 0; s < o.sources.size(); ++s) {
    sources[s].name = o.sources[s].name;
    report.sources[s].name = o.sources[s].name;
  }
  std::vector<std::string> first_error(o.sources.size());
  for (size_t k = 0; k < files.size(); ++k) {
    const int s = files[k].source;
    if (!loaded[k].ok()) {
      report.skipped.push_back({files[k].path, std::string(loaded[k].status().message())});
      if (first_error[s].empty()) first_error[s] = absl::StrCat(files[k].path, ": ", loaded[k].status().message());
      continue;
    }
    TrainEpisode& e = *loaded[k];
    LoadReport::Src& r = report.sources[s];
    ++r.episodes;
    r.frames += e.num_frames();
    r.raw_frames += e.raw_frames;
    r.ik_failures += complement_reports[k].ik_failures;
    if (complement_reports[k].from_cache) ++r.complements_cached;
    report.frame_bytes += e.bytes();
    frames[s].push_back(DrawableFrames(e));
    if (boosts[s].enabled()) {
      r.grasps += static_cast<int>(GraspFrames(e.episode).size());
      std::vector<double> w = GraspFrameWeights(e.episode, frames[s].back(), boosts[s]);
      r.grasp_frames += static_cast<int>(std::count(w.begin(), w.end(), boosts[s].factor));
      frame_weights[s].push_back(std::move(w));
    }
    sources[s].episodes.push_back(std::move(e));
  }
  for (size_t s = 0; s < o.sources.size(); ++s) {
    if (sources[s].episodes.empty()) {
      return absl::InvalidArgumentError(absl::StrCat("data loader: source '", o.sources[s].name,
                                                     "': no episode loaded (first error: ", first_error[s], ")"));
    }
  }

  // As data::ComputeNormalizationStats, over the resampled frames the samples are cut from.
  action::NormalizationStatsBuilder builder;
  for (const Source& s : sources) {
    for (const TrainEpisode& e : s.episodes) data::AddEpisodeToStats(e.episode, &builder);
  }
  stats = builder.Build();
  if (o.normalization != nullptr) {
    int filled = 0;
    stats = FillUnseenStats(*o.normalization, stats, &filled);
    if (filled > 0 && o.on_progress) {
      o.on_progress(absl::StrCat("normalization: kept the given statistics; ", filled,
                                 " (embodiment, dimension) pairs they never saw taken from the data"));
    }
  }
  std::vector<double> weights;
  for (const DataSource& s : o.sources) weights.push_back(s.weight);
  auto m = DataMix::Create(std::move(weights), std::move(frames), frame_weights);
  if (!m.ok()) return m.status();
  mix = std::make_unique<DataMix>(std::move(*m));
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return absl::OkStatus();
}

absl::StatusOr<TrainBatch> DataLoader::Impl::MakeBatch(uint64_t index) const {
  const LoaderOptions& o = *options;
  data::SampleOptions sample_options;
  sample_options.horizon = o.horizon;
  sample_options.action_offset = 1;
  sample_options.with_images = false;
  std::vector<CollatorItem> items(o.batch_size);
  const uint64_t first = static_cast<uint64_t>(o.rank) * o.batch_size;
  for (int j = 0; j < o.batch_size; ++j) {
    SampleRng rng(o.seed, index, first + j);
    const FrameRef ref = mix->Draw(&rng);
    const TrainEpisode& e = sources[ref.source].episodes[ref.episode];
    auto sample = data::MakeSample(e.episode, ref.frame, sample_options);
    if (!sample.ok()) return sample.status();
    auto views = e.DecodeViews(ref.frame);
    if (!views.ok()) return views.status();
    CollatorItem& item = items[j];
    item.sample = std::move(*sample);
    item.sample.images = std::move(*views);
    item.seed = rng.NextU64();
    item.source = sources[ref.source].name;
    item.episode = e.episode.source;
    item.file_frame = e.source_frames[ref.frame];
  }
  return collator->Collate(items, index);
}

void DataLoader::Impl::StartWorkers() {
  for (int w = 0; w < options->workers; ++w) threads_.emplace_back([this] { WorkerLoop(); });
}

void DataLoader::Impl::StopWorkers() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

void DataLoader::Impl::WorkerLoop() {
  const uint64_t ahead = static_cast<uint64_t>(options->prefetch_batches);
  while (true) {
    uint64_t index, generation;
    {
      auto can_claim = [this, ahead]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stop_ || next_claim_ < next_index_ + ahead;
      };
      absl::MutexLock lock(&mu_, absl::Condition(&can_claim));
      if (stop_) return;
      index = next_claim_++;
      generation = generation_;
    }
    absl::StatusOr<TrainBatch> batch = MakeBatch(index);
    absl::MutexLock lock(&mu_);
    if (generation == generation_) ready_.emplace(index, std::move(batch));
  }
}

absl::StatusOr<TrainBatch> DataLoader::Impl::Next() {
  if (threads_.empty()) {
    uint64_t index;
    {
      absl::MutexLock lock(&mu_);
      index = next_index_++;
    }
    return MakeBatch(index);
  }
  auto available = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return ready_.count(next_index_) > 0; };
  absl::MutexLock lock(&mu_, absl::Condition(&available));
  auto it = ready_.find(next_index_);
  absl::StatusOr<TrainBatch> batch = std::move(it->second);
  ready_.erase(it);
  ++next_index_;
  return batch;
}

void DataLoader::Impl::SeekTo(uint64_t index) {
  absl::MutexLock lock(&mu_);
  ++generation_;
  ready_.clear();
  next_index_ = index;
  next_claim_ = index;
}

action::NormalizationStats FillUnseenStats(const action::NormalizationStats& kept,
                                           const action::NormalizationStats& from_data, int* filled) {
  // Through the JSON form: NormalizationStats has no setters (core/action owns it).
  nlohmann::json k = nlohmann::json::parse(kept.ToJson());
  const nlohmann::json d = nlohmann::json::parse(from_data.ToJson());
  int n = 0;
  for (action::Embodiment e : action::kAllEmbodiments) {
    const std::string name(action::EmbodimentName(e));
    nlohmann::json& kc = k["embodiments"][name];
    const nlohmann::json& dc = d["embodiments"][name];
    for (int i = 0; i < action::kActionDim; ++i) {
      if (kc["count"][i].get<int64_t>() != 0 || dc["count"][i].get<int64_t>() == 0) continue;
      for (const char* key : {"mean", "std", "min", "max", "count"}) kc[key][i] = dc[key][i];
      ++n;
    }
  }
  if (filled != nullptr) *filled = n;
  if (n == 0) return kept;
  auto merged = action::NormalizationStats::FromJson(k.dump());
  return merged.ok() ? *merged : kept;  // cannot fail: both inputs came from ToJson
}

absl::StatusOr<std::unique_ptr<DataLoader>> DataLoader::Create(LoaderOptions options) {
  if (auto s = ValidateOptions(options); !s.ok()) return s;
  auto impl = std::make_unique<Impl>();
  auto tok = options.tokenizer_model.empty() ? tokenizer::Tokenizer::FromFile(options.tokenizer_path)
                                              : tokenizer::Tokenizer::FromSerializedModel(options.tokenizer_model);
  if (!tok.ok()) {
    return WithPrefix(tok.status(), absl::StrCat("data loader: tokenizer '", options.tokenizer_path, "': "));
  }
  impl->tokenizer = std::move(*tok);
  std::unique_ptr<DataLoader> loader(new DataLoader(std::move(options), std::move(impl)));
  Impl& im = *loader->impl_;
  im.options = &loader->options_;
  if (auto s = im.Load(); !s.ok()) return s;
  CollatorOptions c;
  c.image_size = loader->options_.image_size;
  c.max_views = loader->options_.max_views;
  c.max_text_tokens = loader->options_.max_text_tokens;
  c.horizon = loader->options_.horizon;
  c.augment = loader->options_.augment;
  im.collator = std::make_unique<Collator>(c, &im.stats, im.tokenizer.get());
  im.StartWorkers();
  return loader;
}

DataLoader::DataLoader(LoaderOptions options, std::unique_ptr<Impl> impl)
    : options_(std::move(options)), impl_(std::move(impl)) {}

DataLoader::~DataLoader() { impl_->StopWorkers(); }

const action::NormalizationStats& DataLoader::normalization() const { return impl_->stats; }
const LoadReport& DataLoader::report() const { return impl_->report; }
absl::StatusOr<TrainBatch> DataLoader::Next() { return impl_->Next(); }
absl::Status DataLoader::SeekTo(uint64_t batch_index) {
  impl_->SeekTo(batch_index);
  return absl::OkStatus();
}
uint64_t DataLoader::next_index() const { return impl_->next_index(); }
absl::StatusOr<TrainBatch> DataLoader::MakeBatch(uint64_t batch_index) const { return impl_->MakeBatch(batch_index); }

}  // namespace mivla::trainer
