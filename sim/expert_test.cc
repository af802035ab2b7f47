// File: expert_test.cc
// Every task's scripted expert succeeds, by the task's own success check, in >= 95% of 20 easy-mode
// seeds and >= 85% of 20 hard-mode seeds for each embodiment the task supports. One test per
// (task, embodiment, mode) so CTest can spread them over cores. No rendering (not needed for success).
#include <string>
#include <tuple>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "sim/rollout.h"

namespace mivla::sim {
namespace {

using Case = std::tuple<std::string, action::Embodiment, Mode>;

std::vector<Case> AllCases() {
  std::vector<Case> cases;
  for (const Task* t : AllTasks()) {
    for (action::Embodiment e : SupportedEmbodiments(*t)) {
      for (Mode m : {Mode::kEasy, Mode::kHard}) cases.emplace_back(t->spec().name, e, m);
    }
  }
  return cases;
}

class ExpertSuccessTest : public ::testing::TestWithParam<Case> {};

TEST_P(ExpertSuccessTest, SucceedsOnTwentySeeds) {
  const auto& [task, embodiment, mode] = GetParam();
  constexpr int kSeeds = 20;
  int successes = 0;
  std::vector<int> failed;
  for (int seed = 0; seed < kSeeds; ++seed) {
    EpisodeOptions o;
    o.task = task;
    o.embodiment = embodiment;
    o.mode = mode;
    o.seed = 1000 + seed;
    o.record = false;
    absl::StatusOr<Episode> ep = RunEpisode(o);
    ASSERT_TRUE(ep.ok()) << ep.status();
    if (ep->success) {
      ++successes;
      EXPECT_DOUBLE_EQ(ep->completeness, 1.0);
    } else {
      failed.push_back(seed);
      EXPECT_LT(ep->completeness, 1.0);
    }
  }
  const double rate = static_cast<double>(successes) / kSeeds;
  const double required = mode == Mode::kEasy ? 0.95 : 0.85;
  std::string seeds;
  for (int s : failed) absl::StrAppend(&seeds, " ", 1000 + s);
  EXPECT_GE(rate, required) << task << " / " << action::EmbodimentName(embodiment) << " / " << ModeName(mode)
                            << ": success rate " << rate << ", failed seeds:" << seeds;
  RecordProperty("success_rate", std::to_string(rate));
}

std::string CaseName(const ::testing::TestParamInfo<Case>& info) {
  return absl::StrCat(std::get<0>(info.param), "_", std::string(action::EmbodimentName(std::get<1>(info.param))), "_",
                      ModeName(std::get<2>(info.param)));
}

INSTANTIATE_TEST_SUITE_P(AllPairs, ExpertSuccessTest, ::testing::ValuesIn(AllCases()), CaseName);

}  // namespace
}  // namespace mivla::sim
