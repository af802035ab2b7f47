// File: server_bench_overhead.cc
#include "bench/server_bench_overhead.h"

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "core/model/model_config.h"

namespace mivla::bench {

absl::StatusOr<server::FakeRuntimeOptions> ZeroCostRuntime(const std::string& config) {
  absl::StatusOr<model::ModelConfig> c = model::ConfigByName(config);
  if (!c.ok()) return c.status();
  server::FakeRuntimeOptions f;
  f.version = "zero-cost";
  f.config_name = c->name;
  f.action_horizon = c->decoder.action_horizon;
  f.sampling_steps = c->decoder.sampling_steps;
  f.control_rate_hz = c->control_rate_hz;
  f.max_views = c->max_views;
  f.image_size = std::max(c->dino.image_size, c->siglip.image_size);  // the side the real runtime resizes to
  f.encode_latency = absl::ZeroDuration();
  f.decode_latency = absl::ZeroDuration();
  return f;
}

absl::StatusOr<server::FakeRuntimeOptions> SleepingRuntime(const std::string& config, double encode_ms,
                                                           double decode_ms) {
  if (!(encode_ms >= 0 && decode_ms >= 0 && encode_ms + decode_ms < 60e3)) {
    return absl::InvalidArgumentError(absl::StrCat("sleeping runtime: encode ", encode_ms, " ms, decode ", decode_ms,
                                                   " ms: want each >= 0 and together under 60 s"));
  }
  absl::StatusOr<server::FakeRuntimeOptions> f = ZeroCostRuntime(config);
  if (!f.ok()) return f.status();
  f->version = "sleeping";
  f->encode_latency = absl::Milliseconds(encode_ms);
  f->decode_latency = absl::Milliseconds(decode_ms);
  return f;
}

nlohmann::json IdleOverheadJson(nlohmann::json row, const std::string& config, double encode_ms, double decode_ms) {
  const double model_ms = encode_ms + decode_ms;
  const double p50 = row["p50_ms"].get<double>();
  row["runtime"] = "fake runtime with " + config + "'s shapes, sleeping the bare model's encode and decode medians";
  row["model_ms"] = model_ms;
  row["server_ms"] = p50 - model_ms;
  row["p50_over_model"] = model_ms > 0 ? p50 / model_ms : -1.0;
  row["note"] =
      "one robot's Observe + Act pair when the model's time passes with the CPU idle (as beside a GPU): "
      "server_ms = p50 - model_ms is what the server adds when its threads and the client's wake from sleep "
      "at each hand-off, plus the sleeps' own overshoot (0.19 ms in the decode step of one run on the 2-CPU machine); "
      "compare "
      "server_overhead's p50, where the zero-cost runtime keeps them busy";
  return row;
}

nlohmann::json OverheadJson(nlohmann::json row, const std::string& config, double bare_ms) {
  row["runtime"] = "zero-cost fake runtime (server/runtime_api/fake_policy_runtime.h) with " + config + "'s shapes";
  row["estimated_one_robot_over_bare"] = (bare_ms + row["p50_ms"].get<double>()) / bare_ms;
  row["note"] =
      "one robot's Observe + Act pair through the server when the model takes no time: gRPC, validation, "
      "decoding and resizing the images on the CPU, the stages' hand-offs. estimated_one_robot_over_bare = "
      "(bare_decode_ms + this p50) / bare_decode_ms: the one-robot ratio the server's own cost suggests while "
      "the bare figure holds. Not a bound: the bare figure drifts (bare_drift), and the real runtime's calls "
      "may cost more around the server than these do";
  return row;
}

nlohmann::json BareDriftJson(double before_ms, double after_ms, double ratio_before) {
  return {{"before_rows_ms", before_ms},
          {"after_rows_ms", after_ms},
          {"one_robot_edf_over_bare_before", ratio_before},
          {"one_robot_edf_over_bare_after", ratio_before * before_ms / after_ms},
          {"note",
           "the targets read against the bare figure measured before the rows; this one, measured after "
           "them, shows how far the machine's speed moved meanwhile"}};
}

}  // namespace mivla::bench
