#include "server/service/rollout_info.h"

#include <cstdint>

#include "absl/time/time.h"

namespace mivla::server {
namespace {

void FillVersion(const VersionStatus& v, mivla::v1::RolloutVersion* out) {
  out->set_version(v.version);
  out->set_checkpoint(v.checkpoint);
  out->set_episodes(static_cast<uint64_t>(v.counts.episodes));
  out->set_successes(static_cast<uint64_t>(v.counts.successes));
  out->set_sessions(static_cast<uint64_t>(v.counts.sessions));
}

}  // namespace

void FillRolloutInfo(const RolloutStatus& st, mivla::v1::RolloutInfo* out) {
  out->set_mode(st.mode);
  if (st.incumbent) FillVersion(*st.incumbent, out->mutable_incumbent());
  if (st.canary) FillVersion(*st.canary, out->mutable_canary());
  out->set_canary_share(st.options.canary_share);
  out->set_min_episodes(static_cast<uint32_t>(st.options.min_episodes));
  out->set_alpha(st.options.alpha);
  out->set_pinned_version(st.pinned);
  if (st.last_decision) {
    const RolloutDecisionRecord& d = *st.last_decision;
    mivla::v1::RolloutDecision* o = out->mutable_last_decision();
    o->set_decision(RolloutVerdictName(d.verdict));
    o->set_by(d.by_operator ? "operator" : "test");
    FillVersion(d.canary, o->mutable_canary());
    FillVersion(d.incumbent, o->mutable_incumbent());
    o->set_p_value(d.p_value);
    o->set_time_unix_us(absl::ToUnixMicros(d.time));
  }
  out->set_rejected_checkpoints(static_cast<uint32_t>(st.rejected_checkpoints));
}

}  // namespace mivla::server
