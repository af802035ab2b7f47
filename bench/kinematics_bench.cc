// mivla-bench-kinematics: IK success rate, latency and accuracy per robot embodiment over random
// reachable targets (FK of random in-limit joints) from random current joints.
//
//   mivla-bench-kinematics [--json] [--samples 10000] [--seed 1] [--embodiment-dir DIR]
//
// Targets (issue 3): success >= 99.5 %, median <= 300 us, errors <= 1 mm and 0.01 rad over successes.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "core/kinematics/embodiment_loader.h"
#include "core/kinematics/ik_solver.h"
#include "core/kinematics/transforms.h"
#include "core/util/flag_parser.h"
#include "core/util/quantile.h"

namespace {

using mivla::kinematics::ArmDescription;
using mivla::kinematics::EmbodimentDescription;
using mivla::kinematics::IkSolver;
using mivla::kinematics::JointVector;

constexpr double kTargetSuccess = 0.995;
constexpr double kTargetMedianUs = 300.0;
constexpr double kTargetPositionM = 1e-3;
constexpr double kTargetRotationRad = 0.01;

struct Result {
  std::string name;
  int samples = 0;
  int successes = 0;
  double median_us = 0, p99_us = 0, mean_us = 0, max_us = 0;
  double max_position_m = 0, max_rotation_rad = 0;
  bool meets = false;
};

JointVector RandomInLimits(const ArmDescription& arm, std::mt19937* rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  JointVector q(arm.chain.num_joints());
  for (int i = 0; i < q.size(); ++i) {
    q[i] = arm.chain.lower()[i] + u(*rng) * (arm.chain.upper()[i] - arm.chain.lower()[i]);
  }
  return q;
}

Result Run(const EmbodimentDescription& d, int samples, uint32_t seed) {
  Result r;
  r.name = d.name;
  std::vector<IkSolver> solvers;
  for (const ArmDescription& arm : d.arms) {
    auto s = IkSolver::Create(arm.chain, IkSolver::Options(), arm.home);
    if (!s.ok()) {
      std::fprintf(stderr, "%s: %s\n", d.name.c_str(), std::string(s.status().message()).c_str());
      std::exit(1);
    }
    solvers.push_back(*std::move(s));
  }
  std::mt19937 rng(seed);
  std::vector<double> times;
  times.reserve(samples);
  for (int k = 0; k < samples; ++k) {
    const size_t a = static_cast<size_t>(k) % d.arms.size();  // two-armed robots alternate arms
    const ArmDescription& arm = d.arms[a];
    const Eigen::Isometry3d target = arm.chain.ForwardUnchecked(RandomInLimits(arm, &rng));
    const JointVector current = RandomInLimits(arm, &rng);
    const auto t0 = std::chrono::steady_clock::now();
    auto sol = solvers[a].Solve(target, current);
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
    ++r.samples;
    if (!sol.ok()) continue;
    const auto dist = mivla::kinematics::DistanceBetween(arm.chain.ForwardUnchecked(sol->joints), target);
    const bool within = arm.chain.WithinLimits(sol->joints, 0.0) && dist.position_m <= kTargetPositionM &&
                        dist.rotation_rad <= kTargetRotationRad;
    if (!within) continue;
    ++r.successes;
    r.max_position_m = std::max(r.max_position_m, dist.position_m);
    r.max_rotation_rad = std::max(r.max_rotation_rad, dist.rotation_rad);
  }
  r.median_us = mivla::Quantile(times, 0.5);
  r.p99_us = mivla::Quantile(times, 0.99);
  r.max_us = mivla::Quantile(times, 1.0);
  for (double t : times) r.mean_us += t / static_cast<double>(times.size());
  r.meets = static_cast<double>(r.successes) >= kTargetSuccess * r.samples && r.median_us <= kTargetMedianUs &&
            r.max_position_m <= kTargetPositionM && r.max_rotation_rad <= kTargetRotationRad;
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  int64_t samples_flag = 10000, seed_flag = 1;
  std::string dir;
  mivla::FlagParser flags("mivla-bench-kinematics [--json] [--samples N] [--seed S] [--embodiment-dir DIR]");
  flags.AddBool("json", &json, "print only the JSON");
  flags.AddInt("samples", &samples_flag, "random reachable poses per robot");
  flags.AddInt("seed", &seed_flag, "seed of the poses");
  flags.AddString("embodiment-dir", &dir, "embodiment descriptions (default: the bundled ones)", false);
  if (std::optional<int> exit = flags.ParseFlagsForMain(argc, argv, "mivla-bench-kinematics")) return *exit;
  if (samples_flag < 1 || samples_flag > 100000000 || seed_flag < 0 || seed_flag > 0xFFFFFFFFLL) {
    std::fprintf(stderr, "mivla-bench-kinematics: --samples must be in [1, 1e8] and --seed in [0, 2^32)\n");
    return 2;
  }
  const int samples = static_cast<int>(samples_flag);
  const uint32_t seed = static_cast<uint32_t>(seed_flag);
  std::vector<Result> results;
  for (mivla::action::Embodiment e : mivla::action::kAllEmbodiments) {
    if (!mivla::action::IsRobot(e)) continue;
    auto d = mivla::kinematics::LoadEmbodiment(e, dir);
    if (!d.ok()) {
      std::fprintf(stderr, "mivla-bench-kinematics: %s\n", std::string(d.status().message()).c_str());
      return 1;
    }
    results.push_back(Run(*d, samples, seed));
  }
  bool all = true;
  for (const Result& r : results) all = all && r.meets;
  if (json) {
    std::printf("{\n  \"benchmark\": \"kinematics\",\n  \"hardware_threads\": %u,\n  \"samples_per_embodiment\": %d,\n",
                std::thread::hardware_concurrency(), samples);
    std::printf("  \"targets\": {\"ik_success_rate_min\": %.3f, \"ik_median_us_max\": %.0f, "
                "\"max_position_error_m\": %.3g, \"max_rotation_error_rad\": %.3g},\n",
                kTargetSuccess, kTargetMedianUs, kTargetPositionM, kTargetRotationRad);
    std::printf("  \"embodiments\": {\n");
    for (size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      std::printf("    \"%s\": {\"ik_success_rate\": %.5f, \"ik_median_us\": %.1f, \"ik_p99_us\": %.1f, "
                  "\"ik_mean_us\": %.1f, \"ik_max_us\": %.1f, \"max_position_error_m\": %.3g, "
                  "\"max_rotation_error_rad\": %.3g, \"samples\": %d, \"meets_targets\": %s}%s\n",
                  r.name.c_str(), static_cast<double>(r.successes) / r.samples, r.median_us, r.p99_us, r.mean_us,
                  r.max_us, r.max_position_m, r.max_rotation_rad, r.samples, r.meets ? "true" : "false",
                  i + 1 < results.size() ? "," : "");
    }
    std::printf("  },\n  \"all_targets_met\": %s\n}\n", all ? "true" : "false");
  } else {
    std::printf("%-14s %9s %10s %9s %12s %12s %s\n", "embodiment", "success", "median_us", "p99_us", "max_pos_m",
                "max_rot_rad", "targets");
    for (const Result& r : results) {
      std::printf("%-14s %8.3f%% %10.1f %9.1f %12.3g %12.3g %s\n", r.name.c_str(),
                  100.0 * r.successes / r.samples, r.median_us, r.p99_us, r.max_position_m, r.max_rotation_rad,
                  r.meets ? "met" : "MISSED");
    }
  }
  return 0;
}
