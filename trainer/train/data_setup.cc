#include "trainer/train/data_setup.h"

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/action/action_space.h"
#include "core/data/complement_cache.h"
#include "core/util/log.h"
#include "core/util/status_macros.h"

namespace mivla::trainer {

absl::StatusOr<LoaderOptions> MakeLoaderOptions(const TrainConfig& c, const model::ModelConfig& m, int rank,
                                                int world_size, const action::NormalizationStats* normalization) {
  LoaderOptions o;
  for (size_t i = 0; i < c.sources.size(); ++i) {
    DataSource s;
    s.name = c.sources[i].name;
    s.path = c.sources[i].path;
    s.weight = c.sources[i].weight;
    s.grasp_boost = c.sources[i].grasp_boost;
    auto e = action::ParseEmbodiment(c.sources[i].robotwin_embodiment);
    if (!e.ok() || *e == action::Embodiment::kHuman) {
      return absl::InvalidArgumentError(absl::StrCat("data.sources[", i, "].robotwin_embodiment: '",
                                                     c.sources[i].robotwin_embodiment, "' is not a robot"));
    }
    s.robotwin_embodiment = *e;
    o.sources.push_back(s);
  }
  if (o.sources.empty()) return absl::InvalidArgumentError("data.sources: no data source");
  o.batch_size = static_cast<int>(c.batch_size);
  o.workers = static_cast<int>(c.workers);
  o.prefetch_batches = static_cast<int>(c.prefetch_batches);
  o.seed = c.seed;
  o.rank = rank;
  o.world_size = world_size;
  o.control_rate_hz = m.control_rate_hz;
  o.horizon = m.decoder.action_horizon;
  o.image_size = std::max(m.dino.image_size, m.siglip.image_size);
  o.max_views = m.max_views;
  o.cameras = c.cameras;
  o.max_text_tokens = m.text.max_tokens;
  o.tokenizer_path = c.tokenizer;
  o.grasp_boost = {c.grasp_boost, c.grasp_before_s, c.grasp_after_s};
  const nlohmann::json& a = c.augment;
  auto num = [&](const char* key, double* out) -> absl::Status {
    if (!a.contains(key)) return absl::OkStatus();
    if (!a[key].is_number()) return absl::InvalidArgumentError(absl::StrCat("data.augment.", key, ": expected a number"));
    *out = a[key].get<double>();
    return absl::OkStatus();
  };
  for (auto it = a.begin(); it != a.end(); ++it) {
    const std::string& k = it.key();
    if (k != "enabled" && k != "max_shift_frac" && k != "brightness" && k != "contrast" && k != "saturation" &&
        k != "proprio_dropout") {
      return absl::InvalidArgumentError(absl::StrCat("data.augment.", k,
                                                     ": unknown field (known: enabled, max_shift_frac, brightness, "
                                                     "contrast, saturation, proprio_dropout)"));
    }
  }
  if (a.contains("enabled")) {
    if (!a["enabled"].is_boolean()) return absl::InvalidArgumentError("data.augment.enabled: expected true or false");
    o.augment.enabled = a["enabled"].get<bool>();
  }
  RETURN_IF_ERROR(num("max_shift_frac", &o.augment.max_shift_frac));
  RETURN_IF_ERROR(num("brightness", &o.augment.brightness));
  RETURN_IF_ERROR(num("contrast", &o.augment.contrast));
  RETURN_IF_ERROR(num("saturation", &o.augment.saturation));
  RETURN_IF_ERROR(num("proprio_dropout", &o.augment.proprio_dropout));
  if (!(o.augment.proprio_dropout >= 0 && o.augment.proprio_dropout <= 1)) {
    return absl::InvalidArgumentError(
        absl::StrCat("data.augment.proprio_dropout: ", o.augment.proprio_dropout, " is not in [0, 1]"));
  }
  auto target = action::ParseEmbodiment(c.target_embodiment);
  if (!target.ok() || *target == action::Embodiment::kHuman) {
    return absl::InvalidArgumentError(
        absl::StrCat("data.target_embodiment: '", c.target_embodiment, "' is not a robot (piper, arx5, aloha, locoman)"));
  }
  o.complements.human_target = *target;
  o.complements.embodiment_dir = c.embodiment_dir;
  // The cache sits beside each dataset unless the config names one; a read-only dataset falls back to
  // <output_dir>/complement_cache (entries keyed by the path relative to the dataset either way).
  const std::string fallback = (std::filesystem::path(c.output_dir) / "complement_cache").string();
  o.complements.cache_dir = c.cache_dir.empty() ? fallback : c.cache_dir;
  if (c.cache_dir.empty()) {
    for (DataSource& s : o.sources) {
      if (!std::filesystem::is_directory(s.path)) continue;  // the loader reports the missing source
      auto beside = data::DatasetComplementCacheDir(s.path);
      if (beside.ok()) {
        s.complement_cache_dir = *beside;
      } else {
        LogWarning("data_setup", absl::StrCat("source '", s.name, "': ", beside.status().message(),
                                              "; caching its complements in ", fallback));
        s.complement_cache_dir = fallback;
      }
    }
  }
  o.normalization = normalization;
  return o;
}

absl::StatusOr<std::string> DataFingerprint(const TrainConfig& c) {
  namespace fs = std::filesystem;
  std::string text;  // hashed whole: the same FNV-1a as mixing it in piece by piece
  for (size_t i = 0; i < c.sources.size(); ++i) {
    std::vector<std::string> rows;
    std::error_code ec;
    for (fs::recursive_directory_iterator it(c.sources[i].path, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string rel = fs::relative(it->path(), c.sources[i].path).string();
      if (rel.empty() || rel[0] == '.' || !it->is_regular_file()) continue;  // skips caches (.mivla_*)
      rows.push_back(absl::StrCat(rel, "\t", it->file_size()));
    }
    if (ec) return absl::NotFoundError(absl::StrCat("data.sources[", i, "].path: '", c.sources[i].path, "': ", ec.message()));
    std::sort(rows.begin(), rows.end());
    absl::StrAppend(&text, "source ", i, "\n");
    for (const std::string& r : rows) absl::StrAppend(&text, r, "\n");
  }
  return Fnv1aHex(text);
}

nlohmann::json LoadReportJson(const LoadReport& r) {
  nlohmann::json sources = nlohmann::json::array(), skipped = nlohmann::json::array();
  for (const LoadReport::Src& s : r.sources) {
    sources.push_back({{"name", s.name},
                       {"episodes", s.episodes},
                       {"frames", s.frames},
                       {"raw_frames", s.raw_frames},
                       {"ik_failures", s.ik_failures},
                       {"complements_cached", s.complements_cached},
                       {"grasps", s.grasps},
                       {"grasp_frames", s.grasp_frames}});
  }
  for (const data::DatasetError& e : r.skipped) skipped.push_back({{"path", e.path}, {"reason", e.reason}});
  return {{"sources", sources}, {"skipped", skipped}, {"frame_bytes", r.frame_bytes}, {"seconds", r.seconds}};
}

}  // namespace mivla::trainer
