#include "server/model_manager/rollout_store.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/util/json_field.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace mivla::server {
namespace {

nlohmann::json IdJson(const CheckpointId& id, const std::string& version) {
  return {{"file", id.file}, {"size", id.size}, {"mtime_ns", id.mtime_ns}, {"version", version}};
}

absl::Status IdFromJson(const nlohmann::json& j, const std::string& where, CheckpointId* id, std::string* version) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
  *version = "";
  RETURN_IF_ERROR(ReadJsonFieldAt(j, where, "file", &id->file, /*required=*/true));
  RETURN_IF_ERROR(ReadJsonFieldAt(j, where, "size", &id->size, /*required=*/true));
  RETURN_IF_ERROR(ReadJsonFieldAt(j, where, "mtime_ns", &id->mtime_ns, /*required=*/true));
  return ReadJsonFieldAt(j, where, "version", version);
}

}  // namespace

absl::StatusOr<std::unique_ptr<RolloutStore>> RolloutStore::Open(const std::string& state_dir,
                                                                 const std::string& model_dir, bool writable) {
  std::error_code ec;
  if (!std::filesystem::is_directory(state_dir, ec)) {
    return absl::FailedPreconditionError(absl::StrCat("rollout state directory '", state_dir,
                                                      "' is not a directory (--rollout-state-dir)"));
  }
  if (writable && ::access(state_dir.c_str(), W_OK) != 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "rollout state directory '", state_dir, "' is not writable (", std::strerror(errno),
        "): rejected checkpoints must be recorded; give a writable --rollout-state-dir"));
  }
  std::unique_ptr<RolloutStore> s(
      new RolloutStore((std::filesystem::path(state_dir) / kFileName).string(), model_dir, writable));
  if (absl::Status st = s->Load(); !st.ok()) return st;
  return s;
}

absl::Status RolloutStore::Load() {
  absl::StatusOr<std::string> text = ReadFile(path_);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();  // nothing recorded yet
  if (!text.ok()) {
    return absl::Status(text.status().code(), absl::StrCat("rollout state file: ", text.status().message(),
                                                           " (it lists rejected checkpoints)"));
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  auto bad = [this](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("rollout state file '", path_, "': ", why,
                                                   " (fix or remove it; it lists rejected checkpoints)"));
  };
  if (j.is_discarded() || !j.is_object()) return bad("not a JSON object");
  absl::MutexLock lock(&mu_);
  if (j.contains("incumbent") && !j["incumbent"].is_null()) {
    CheckpointId id;
    if (absl::Status s = IdFromJson(j["incumbent"], "incumbent", &id, &incumbent_version_); !s.ok()) {
      return bad(std::string(s.message()));
    }
    incumbent_ = id;
  }
  if (j.contains("rejected")) {
    if (!j["rejected"].is_array()) return bad("'rejected' is not an array");
    for (size_t i = 0; i < j["rejected"].size(); ++i) {
      const nlohmann::json& e = j["rejected"][i];
      const std::string where = absl::StrCat("rejected[", i, "]");
      Rejected r;
      absl::Status s = IdFromJson(e, where, &r.id, &r.version);
      if (s.ok()) s = ReadJsonFieldAt(e, where, "time_unix_us", &r.time_unix_us);
      if (s.ok()) s = ReadJsonFieldAt(e, where, "why", &r.why);
      if (!s.ok()) return bad(std::string(s.message()));
      rejected_.push_back(std::move(r));
    }
  }
  return absl::OkStatus();
}

bool RolloutStore::IsRejected(const CheckpointId& id) const {
  absl::MutexLock lock(&mu_);
  for (const Rejected& r : rejected_) {
    if (r.id == id) return true;
  }
  return false;
}

size_t RolloutStore::rejected_count() const {
  absl::MutexLock lock(&mu_);
  return rejected_.size();
}

std::optional<CheckpointId> RolloutStore::incumbent() const {
  absl::MutexLock lock(&mu_);
  return incumbent_;
}

absl::Status RolloutStore::Reject(const CheckpointId& id, const std::string& version, const std::string& why) {
  absl::MutexLock lock(&mu_);
  for (const Rejected& r : rejected_) {
    if (r.id == id) return absl::OkStatus();
  }
  rejected_.push_back({id, version, absl::ToUnixMicros(absl::Now()), why});
  return Write();
}

absl::Status RolloutStore::SetIncumbent(const CheckpointId& id, const std::string& version) {
  absl::MutexLock lock(&mu_);
  if (incumbent_ == id && incumbent_version_ == version) return absl::OkStatus();
  incumbent_ = id;
  incumbent_version_ = version;
  return Write();
}

absl::Status RolloutStore::Write() {
  if (!writable_) {
    return absl::FailedPreconditionError(absl::StrCat("rollout state file '", path_, "' was opened read-only"));
  }
  // Entries of files that left the model directory can never match again.
  std::vector<Rejected> kept;
  for (Rejected& r : rejected_) {
    std::error_code ec;
    if (std::filesystem::exists(std::filesystem::path(model_dir_) / r.id.file, ec)) kept.push_back(std::move(r));
  }
  rejected_ = std::move(kept);
  nlohmann::json j = nlohmann::json::object();
  j["incumbent"] = incumbent_ ? IdJson(*incumbent_, incumbent_version_) : nlohmann::json(nullptr);
  j["rejected"] = nlohmann::json::array();
  for (const Rejected& r : rejected_) {
    nlohmann::json e = IdJson(r.id, r.version);
    e["time_unix_us"] = r.time_unix_us;
    e["why"] = r.why;
    j["rejected"].push_back(std::move(e));
  }
  const std::filesystem::path final_path(path_);
  const std::filesystem::path tmp = final_path.parent_path() / absl::StrCat(kFileName, ".tmp.", ::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    if (!out) return absl::InternalError(absl::StrCat("rollout state file '", tmp.string(), "': cannot write"));
  }
  std::error_code ec;
  std::filesystem::rename(tmp, final_path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return absl::InternalError(absl::StrCat("rollout state file '", path_, "': cannot replace it: ", ec.message()));
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
