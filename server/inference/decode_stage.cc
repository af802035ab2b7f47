#include "server/inference/decode_stage.h"

#include "absl/strings/str_cat.h"
#include "server/inference/chunk_builder.h"

namespace mivla::server {

absl::Status WriteChunk(const ChunkValues& values, const RuntimeInfo& info, const DecodeTask& t) {
  ChunkMeta meta;
  meta.embodiment = t.session->spec().embodiment;
  meta.observation_time_us = t.observation->timestamp_us;
  meta.control_period_s = t.session->spec().control_period_s;
  meta.model_period_s = 1.0 / info.control_rate_hz;
  meta.observation_id = t.observation->id;
  t.response->Clear();
  BuildActionChunk(values.values.data(), values.horizon, meta, t.response->mutable_chunk());
  t.response->set_model_version(info.version);
  if (!ChunkIsFinite(t.response->chunk())) {
    t.response->Clear();
    return absl::InternalError(absl::StrCat("the model produced a non-finite action for session ", t.session->id(),
                                            " on model version ", info.version, "; no chunk is sent"));
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
