// RunEvaluation with an injected episode runner (no server, no simulator): an episode that errors is
// recorded with its message and the evaluation goes on with the next seed; the metrics are over the
// episodes that ran; parallel robots get their own ids.
#include "client/eval/evaluator.h"

#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"

namespace mivla::client {
namespace {

EvalOptions Options(int episodes, int parallel) {
  EvalOptions o;
  o.tasks = {"press_bell"};
  o.episodes = episodes;
  o.seed = 100;
  o.parallel = parallel;
  o.episode.driver.embodiment = action::Embodiment::kPiper;
  o.episode.client.robot_id = "eval";
  return o;
}

// Succeeds with completeness 1 and time to success seed/100 s, except for the seeds in `refused`.
absl::StatusOr<EpisodeResult> FakeEpisode(const SimEpisodeOptions& o, const std::set<uint64_t>& refused) {
  if (refused.count(o.driver.seed) > 0) {
    return absl::UnavailableError(absl::StrCat("StartSession: session refused for seed ", o.driver.seed));
  }
  EpisodeResult r;
  r.task = o.driver.task;
  r.embodiment = o.driver.embodiment;
  r.seed = o.driver.seed;
  r.success = true;
  r.completeness = 1.0;
  r.time_to_success_s = static_cast<double>(o.driver.seed) / 100.0;
  return r;
}

TEST(EvaluatorTest, AnErroredEpisodeIsRecordedAndTheNextSeedRuns) {
  EvalOptions o = Options(4, 1);
  o.run_episode = [](const SimEpisodeOptions& e) { return FakeEpisode(e, {101}); };
  absl::StatusOr<EvalReport> r = RunEvaluation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->tasks.size(), 1u);
  const TaskReport& t = r->tasks[0];
  EXPECT_EQ(t.episodes, 3);
  EXPECT_EQ(t.errors, 1);
  EXPECT_EQ(r->episodes, 3);
  EXPECT_EQ(r->errors, 1);
  ASSERT_EQ(t.results.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(t.results[i].seed, 100u + i);  // seed order, the errored one included
  EXPECT_TRUE(absl::StrContains(t.results[1].error, "session refused for seed 101")) << t.results[1].error;
  EXPECT_EQ(t.results[1].task, "press_bell");
  EXPECT_TRUE(t.results[0].error.empty());
  EXPECT_TRUE(t.results[3].error.empty());  // ran after the error
  EXPECT_DOUBLE_EQ(t.success_rate, 1.0);    // over the episodes that ran
  EXPECT_DOUBLE_EQ(t.mean_time_to_success_s, (1.00 + 1.02 + 1.03) / 3);
}

TEST(EvaluatorTest, EveryEpisodeErroredIsAReportNotAnError) {
  EvalOptions o = Options(3, 2);
  o.run_episode = [](const SimEpisodeOptions& e) { return FakeEpisode(e, {100, 101, 102}); };
  absl::StatusOr<EvalReport> r = RunEvaluation(o);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->episodes, 0);
  EXPECT_EQ(r->errors, 3);
  EXPECT_EQ(r->tasks[0].success_rate, 0.0);
  EXPECT_EQ(r->tasks[0].mean_time_to_success_s, -1.0);
  for (const EpisodeResult& e : r->tasks[0].results) EXPECT_FALSE(e.error.empty());
}

TEST(EvaluatorTest, ParallelRobotsHaveTheirOwnIds) {
  absl::Mutex mu;
  std::set<std::string> ids;
  int calls = 0;
  EvalOptions o = Options(6, 3);
  o.run_episode = [&](const SimEpisodeOptions& e) {
    absl::MutexLock l(&mu);
    ids.insert(e.client.robot_id);
    ++calls;
    return FakeEpisode(e, {});
  };
  ASSERT_TRUE(RunEvaluation(o).ok());
  EXPECT_EQ(calls, 6);
  ASSERT_FALSE(ids.empty());
  for (const std::string& id : ids) EXPECT_TRUE(id == "eval-0" || id == "eval-1" || id == "eval-2") << id;

  ids.clear();
  o.parallel = 1;
  ASSERT_TRUE(RunEvaluation(o).ok());
  EXPECT_EQ(ids, std::set<std::string>{"eval"});  // one robot keeps the configured id
}

TEST(EvaluatorTest, BadOptionsAreRefusedBeforeAnythingRuns) {
  int calls = 0;
  EvalOptions o = Options(2, 1);
  o.run_episode = [&](const SimEpisodeOptions& e) {
    ++calls;
    return FakeEpisode(e, {});
  };
  o.tasks = {"lift_pot"};  // a two-arm task
  EXPECT_EQ(RunEvaluation(o).status().code(), absl::StatusCode::kInvalidArgument);
  o.tasks = {"no_such_task"};
  EXPECT_EQ(RunEvaluation(o).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace mivla::client
