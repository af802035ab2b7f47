#include "trainer/train/train_state.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>

#include <torch/serialize/archive.h>
#include <torch/torch.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/model/torch_status.h"

namespace mivla::trainer {
namespace fs = std::filesystem;
namespace {

absl::Status FsyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return absl::InternalError(absl::StrCat(path, ": cannot open for fsync"));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0 && !directory) return absl::InternalError(absl::StrCat(path, ": fsync failed"));
  return absl::OkStatus();
}

std::string TempPath(const std::string& path) {
  fs::path p(path);
  return (p.parent_path() / absl::StrCat(".", p.filename().string(), ".tmp.", ::getpid())).string();
}

absl::Status Publish(const std::string& tmp, const std::string& path) {
  if (auto s = FsyncPath(tmp, false); !s.ok()) return s;
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return absl::InternalError(absl::StrCat(path, ": rename failed: ", ec.message()));
  }
  std::string dir = fs::path(path).parent_path().string();
  return FsyncPath(dir.empty() ? "." : dir, true);
}

}  // namespace

std::string CheckpointStem(const std::string& dir, const std::string& name, int64_t step) {
  return (fs::path(dir) / absl::StrFormat("%s-%08d", name, step)).string();
}

absl::Status WriteFileAtomically(const std::string& path, const std::string& contents) {
  const std::string tmp = TempPath(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << contents;
    if (!out.flush()) return absl::InternalError(absl::StrCat(path, ": cannot write ", tmp));
  }
  return Publish(tmp, path);
}

absl::Status SaveTrainState(const std::string& path, const TrainStateInfo& info, torch::nn::Module& model,
                            torch::optim::Optimizer& optimizer) {
  const std::string tmp = TempPath(path);
  const std::string where = absl::StrCat(path, ": cannot write the training state");
  const absl::Status written = model::CatchTorchErrors(where, [&] {
    torch::serialize::OutputArchive archive, model_archive, optim_archive;
    archive.write("format", c10::IValue(std::string("mivla-train-state-1")));
    archive.write("step", c10::IValue(info.step));
    archive.write("next_batch_index", c10::IValue(static_cast<int64_t>(info.next_batch_index)));
    archive.write("seed", c10::IValue(static_cast<int64_t>(info.seed)));
    archive.write("config_hash", c10::IValue(info.config_hash));
    archive.write("world_size", c10::IValue(info.world_size));
    archive.write("data_fingerprint", c10::IValue(info.data_fingerprint));
    archive.write("init_fingerprint", c10::IValue(info.init_fingerprint));
    model.save(model_archive);
    optimizer.save(optim_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optim_archive);
    archive.save_to(tmp);
  });
  if (!written.ok()) {
    std::error_code ec;
    fs::remove(tmp, ec);
    return written;
  }
  return Publish(tmp, path);
}

absl::StatusOr<TrainStateInfo> LoadTrainState(const std::string& path, torch::nn::Module& model,
                                              torch::optim::Optimizer& optimizer, torch::Device device) {
  if (!fs::exists(path)) return absl::NotFoundError(absl::StrCat(path, ": no such training state"));
  TrainStateInfo info;
  const std::string where = absl::StrCat(path, ": cannot read the training state");
  const absl::Status loaded = model::CatchTorchErrors(absl::StatusCode::kDataLoss, where, [&]() -> absl::Status {
    torch::serialize::InputArchive archive, model_archive, optim_archive;
    archive.load_from(path, device);
    c10::IValue v;
    archive.read("format", v);
    if (!v.isString() || v.toStringRef() != "mivla-train-state-1") {
      return absl::InvalidArgumentError(absl::StrCat(path, ": not a mivla-train state"));
    }
    archive.read("step", v);
    info.step = v.toInt();
    archive.read("next_batch_index", v);
    info.next_batch_index = static_cast<uint64_t>(v.toInt());
    archive.read("seed", v);
    info.seed = static_cast<uint64_t>(v.toInt());
    archive.read("config_hash", v);
    info.config_hash = v.toStringRef();
    if (archive.try_read("world_size", v)) info.world_size = v.toInt();
    if (archive.try_read("data_fingerprint", v)) info.data_fingerprint = v.toStringRef();
    if (archive.try_read("init_fingerprint", v)) info.init_fingerprint = v.toStringRef();
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    torch::NoGradGuard no_grad;
    model.load(model_archive);
    optimizer.load(optim_archive);
    return absl::OkStatus();
  });
  if (!loaded.ok()) return loaded;
  return info;
}

namespace {

// The steps of <name>-<step>.state and of <name>-<step>.mivla files in `dir`.
void ScanCheckpoints(const std::string& dir, const std::string& name, std::set<int64_t>* states,
                     std::set<int64_t>* models) {
  std::error_code ec;
  const std::regex re(absl::StrCat("^", std::regex_replace(name, std::regex(R"([.^$|()\[\]{}*+?\\])"), R"(\$&)"),
                                   R"(-(\d{8,})\.(state|mivla)$)"));
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::smatch m;
    const std::string file = entry.path().filename().string();
    if (!std::regex_match(file, m, re)) continue;
    (m[2] == "state" ? states : models)->insert(std::stoll(m[1]));
  }
}

}  // namespace

std::vector<int64_t> ListCheckpointSteps(const std::string& dir, const std::string& name) {
  std::set<int64_t> states, models;
  ScanCheckpoints(dir, name, &states, &models);
  std::vector<int64_t> both;
  std::set_intersection(states.begin(), states.end(), models.begin(), models.end(), std::back_inserter(both));
  return both;
}

absl::Status PruneCheckpoints(const std::string& dir, const std::string& name, int64_t keep_last) {
  std::vector<int64_t> steps = ListCheckpointSteps(dir, name);
  std::error_code ec;
  for (size_t i = 0; i + static_cast<size_t>(keep_last) < steps.size(); ++i) {
    const std::string stem = CheckpointStem(dir, name, steps[i]);
    // The servable file goes first, so a pair is never half-removed in the direction a resume trusts.
    fs::remove(stem + ".mivla", ec);
    if (ec) return absl::InternalError(absl::StrCat(stem, ".mivla: cannot remove: ", ec.message()));
    fs::remove(stem + ".state", ec);
    if (ec) return absl::InternalError(absl::StrCat(stem, ".state: cannot remove: ", ec.message()));
  }
  // A .state without its .mivla (the run was killed between the two writes, or between the two
  // removals above) is never resumed from; remove it.
  std::set<int64_t> states, models;
  ScanCheckpoints(dir, name, &states, &models);
  for (int64_t step : states) {
    if (models.count(step) > 0) continue;
    const std::string path = CheckpointStem(dir, name, step) + ".state";
    fs::remove(path, ec);
    if (ec) return absl::InternalError(absl::StrCat(path, ": cannot remove: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace mivla::trainer
