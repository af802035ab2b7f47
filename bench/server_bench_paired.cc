#include "bench/server_bench_paired.h"

#include <algorithm>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "bench/server_bench_load.h"
#include "core/util/quantile.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"

namespace mivla::bench {
namespace {

// The counted pairs (PairTally, as the load's rows) and bare calls, for means_ms.
struct Sums {
  PairTally robot;
  int64_t calls = 0;
  double bare_total = 0, bare_encode = 0, bare_sampler = 0;

  void Add(const PairClient::Pair& p) { robot.Add(p.round_trip_ms, p.observe, p.act); }
  void Add(const BareCall& c) {
    ++calls;
    bare_total += c.total_ms;
    bare_encode += c.encode_ms;
    bare_sampler += c.sampler_ms;
  }
  nlohmann::json Json() const {
    nlohmann::json means = ServerMeansJson(robot.MeanBreakdown());
    means["round_trip"] = robot.MeanMs();
    const double m = static_cast<double>(std::max<int64_t>(1, calls));
    return {{"robot", means},
            {"bare", {{"total", bare_total / m}, {"encode", bare_encode / m}, {"sampler", bare_sampler / m}}},
            {"note",
             "robot: the round trip and the server's ServerTiming of its calls (encode includes decoding the "
             "images); bare: the model's own encode and sampler"}};
  }
};

}  // namespace

absl::StatusOr<nlohmann::json> RunPaired(const PairedOptions& o, const BareCallFn& bare_call) {
  if (o.rounds < 1 || o.per_round < 1 || o.warmup < 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("paired row: rounds ", o.rounds, ", per_round ", o.per_round, ", warmup ", o.warmup));
  }
  ASSIGN_OR_RETURN(std::unique_ptr<PairClient> robot,
                   PairClient::Start(o.port, action::Embodiment::kPiper, 0, 4, o.call_timeout_s));
  uint64_t seed = 0;
  Sums sums;
  // `n` robot pairs (their round trips into *out, when counted) or `n` bare calls.
  const auto robot_turn = [&](int n, std::vector<double>* out) -> absl::Status {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<PairClient::Pair> pair = robot->Run(++seed);
      if (!pair.ok()) return WithPrefix(pair.status(), "paired row: ");
      if (out == nullptr) continue;
      out->push_back(pair->round_trip_ms);
      sums.Add(*pair);
    }
    return absl::OkStatus();
  };
  const auto bare_turn = [&](int n, std::vector<double>* out) -> absl::Status {
    for (int i = 0; i < n; ++i) {
      absl::StatusOr<BareCall> call = bare_call();
      if (!call.ok()) return WithPrefix(call.status(), "paired row, bare model: ");
      if (out == nullptr) continue;
      out->push_back(call->total_ms);
      sums.Add(*call);
    }
    return absl::OkStatus();
  };
  RETURN_IF_ERROR(robot_turn(o.warmup, nullptr));
  RETURN_IF_ERROR(bare_turn(o.warmup, nullptr));
  std::vector<double> server_all, bare_all, round_ratios, bare_p50s;
  for (int r = 0; r < o.rounds; ++r) {
    std::vector<double> server_round, bare_round;
    RETURN_IF_ERROR(robot_turn(o.per_round, &server_round));
    RETURN_IF_ERROR(bare_turn(o.per_round, &bare_round));
    const double bare_p50 = Quantile(bare_round, 0.5);
    round_ratios.push_back(Quantile(server_round, 0.5) / bare_p50);
    bare_p50s.push_back(bare_p50);
    server_all.insert(server_all.end(), server_round.begin(), server_round.end());
    bare_all.insert(bare_all.end(), bare_round.begin(), bare_round.end());
  }
  const double server_p50 = Quantile(server_all, 0.5);
  const double bare_p50 = Quantile(bare_all, 0.5);
  const double bare_median = Quantile(bare_p50s, 0.5);
  const auto [lo, hi] = std::minmax_element(bare_p50s.begin(), bare_p50s.end());
  return nlohmann::json{
      {"rounds", o.rounds},
      {"per_round", o.per_round},
      {"server_p50_ms", server_p50},
      {"bare_p50_ms", bare_p50},
      {"ratio", server_p50 / bare_p50},
      {"round_ratios", round_ratios},
      {"round_ratio_median", Quantile(round_ratios, 0.5)},
      {"bare_spread", {{"min_over_median", *lo / bare_median}, {"max_over_median", *hi / bare_median}}},
      {"means_ms", sums.Json()},
      {"note",
       "one robot (Observe + Act round trips) and the bare model's encode + decode took turns, per_round of "
       "each, so both sides share the machine's speed of the same minutes; ratio = server_p50_ms / "
       "bare_p50_ms over every counted pair and call"}};
}

}  // namespace mivla::bench
