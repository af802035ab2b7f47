// File: server_bench_overhead.h
// mivla-bench-server's aids for reading the one-robot target (issue 12: one robot alone, batching on, at
// most 1.05 x the bare model):
//   * the zero-cost runtime: the fake runtime (server/runtime_api/fake_policy_runtime.h) with a model
//     config's shapes and no latency, on which one robot's Observe + Act pair costs only what the server
//     adds (gRPC, validation, decoding and resizing the images on the CPU, the stages' hand-offs);
//   * the JSON of that row, with the one-robot ratio it suggests for the real model;
//   * the sleeping runtime: the same, sleeping the bare model's encode and decode times, and its row's
//     JSON: the server's cost when its threads wake from an idle CPU at each hand-off;
//   * the JSON of the bare model's drift: measured before and after the sweep's rows.
// Thread safety: pure functions.
#ifndef MIVLA_BENCH_SERVER_BENCH_OVERHEAD_H_
#define MIVLA_BENCH_SERVER_BENCH_OVERHEAD_H_

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"
#include "server/runtime_api/fake_policy_runtime.h"

namespace mivla::bench {

/// The fake runtime with the shapes of model config `config` (action horizon, sampling steps, control
/// rate, views, the image side the real runtime resizes to) and zero encode and decode latency.
absl::StatusOr<server::FakeRuntimeOptions> ZeroCostRuntime(const std::string& config);

/// ZeroCostRuntime(config) whose Encode and Decode calls sleep `encode_ms` and `decode_ms` (the bare model's
/// medians): the model's time passes with the CPU idle, as it does while a GPU computes, so the server's
/// threads wake from sleep at each hand-off as they do beside a real model.
absl::StatusOr<server::FakeRuntimeOptions> SleepingRuntime(const std::string& config, double encode_ms,
                                                           double decode_ms);

/// `row` (the sleeping runtime's one-robot row) with the runtime named, `model_ms` (the sleeps),
/// `server_ms` = its p50 - model_ms (what the server adds when the CPU idles between hand-offs, with the
/// sleeps' overshoot) and
/// `p50_over_model` = its p50 / model_ms, and a note.
nlohmann::json IdleOverheadJson(nlohmann::json row, const std::string& config, double encode_ms, double decode_ms);

/// `row` (the zero-cost robot's sweep row) with the runtime named and `estimated_one_robot_over_bare` =
/// (bare_ms + its p50) / bare_ms: the one-robot ratio the server's own cost suggests while the bare
/// figure holds (it drifts: see BareDriftJson), and a note.
nlohmann::json OverheadJson(nlohmann::json row, const std::string& config, double bare_ms);

/// The bare model's time before and after the rows and the one-robot ratio (`ratio_before`, read against
/// the first) against each.
nlohmann::json BareDriftJson(double before_ms, double after_ms, double ratio_before);

}  // namespace mivla::bench

#endif  // MIVLA_BENCH_SERVER_BENCH_OVERHEAD_H_
