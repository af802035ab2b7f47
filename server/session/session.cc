#include "server/session/session.h"

#include <utility>

#include "absl/strings/str_cat.h"

namespace mivla::server {

Session::Session(std::string id, SessionSpec spec, size_t history)
    : id_(std::move(id)), spec_(std::move(spec)), history_(history < 1 ? 1 : history) {
  instruction_ = spec_.instruction;
  last_used_ = absl::Now();
}

std::string Session::instruction() const {
  absl::MutexLock lock(&mu_);
  return instruction_;
}

void Session::set_instruction(std::string text, uint64_t observation_id) {
  absl::MutexLock lock(&mu_);
  if (observation_id < instruction_from_) return;  // a newer observation's instruction is in force
  instruction_ = std::move(text);
  instruction_from_ = observation_id;
}

uint64_t Session::NextObservationId() {
  absl::MutexLock lock(&mu_);
  return ++next_id_;
}

void Session::AddObservation(std::shared_ptr<const EncodedObservation> obs) {
  absl::MutexLock lock(&mu_);
  // Encode batches may finish out of order: keep the history sorted by id.
  auto it = observations_.end();
  while (it != observations_.begin() && (*(it - 1))->id > obs->id) --it;
  observations_.insert(it, std::move(obs));
  while (observations_.size() > history_) observations_.pop_front();
}

absl::StatusOr<std::shared_ptr<const EncodedObservation>> Session::Observation(uint64_t id) const {
  absl::MutexLock lock(&mu_);
  if (observations_.empty()) {
    return absl::FailedPreconditionError(
        absl::StrCat("session ", id_, " has no observation yet: call Observe first"));
  }
  if (id == 0) return observations_.back();
  for (const auto& o : observations_) {
    if (o->id == id) return o;
  }
  return absl::NotFoundError(absl::StrCat("observation_id ", id, " of session ", id_,
                                          " is unknown or no longer kept (the latest ", history_, " are)"));
}

void Session::ReplaceObservation(std::shared_ptr<const EncodedObservation> obs) {
  absl::MutexLock lock(&mu_);
  for (auto& o : observations_) {
    if (o->id == obs->id) {
      o = std::move(obs);
      return;
    }
  }
}

void Session::RecordChunk(const SentChunk& chunk) {
  absl::MutexLock lock(&mu_);
  if (last_chunk_.has_value() && chunk.observation_id < last_chunk_->observation_id) return;
  last_chunk_ = chunk;
}

std::optional<SentChunk> Session::last_chunk() const {
  absl::MutexLock lock(&mu_);
  return last_chunk_;
}

std::shared_ptr<const PolicyRuntime> Session::runtime() const {
  absl::MutexLock lock(&mu_);
  return runtime_;
}

void Session::set_runtime(std::shared_ptr<const PolicyRuntime> runtime) {
  std::shared_ptr<const PolicyRuntime> old;  // a retired version may be freed here: outside the lock
  absl::MutexLock lock(&mu_);
  old = std::move(runtime_);
  runtime_ = std::move(runtime);
}

void Session::Touch(absl::Time now) {
  absl::MutexLock lock(&mu_);
  last_used_ = now;
}

absl::Time Session::last_used() const {
  absl::MutexLock lock(&mu_);
  return last_used_;
}

}  // namespace mivla::server
