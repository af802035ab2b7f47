#include "trainer/train/data_loader.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "Eigen/Geometry"
#include "core/data/egodex_format.h"
#include "core/data/robotwin_format.h"
#include "core/data/test_util.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

using action::Embodiment;
using action::kActionDim;
namespace fs = std::filesystem;

// Datasets made once for the suite: PiPER (RoboTwin layout, 30 Hz), ALOHA (3 cameras, 30 Hz), human
// (EgoDex layout, 30 fps with mp4 video).
struct Datasets {
  std::string root, robot, aloha, human, cache;
};

// The test helper's hands travel ~0.45 m and turn ~3 rad in a second, beyond what PiPER's IK follows
// from its home pose; a tenth of that motion (translation and rotation) keeps the complements solvable.
data::HumanEpisode SlowHands(data::HumanEpisode h) {
  const double f = 0.1;
  for (auto& [joint, poses] : h.transforms) {
    if (joint == "camera") continue;
    const Eigen::Matrix4d m0 = poses[0];
    for (Eigen::Matrix4d& m : poses) {
      const Eigen::AngleAxisd turn(m0.topLeftCorner<3, 3>().transpose() * m.topLeftCorner<3, 3>());
      m.topLeftCorner<3, 3>() = m0.topLeftCorner<3, 3>() * Eigen::AngleAxisd(f * turn.angle(), turn.axis()).toRotationMatrix();
      m.topRightCorner<3, 1>() = m0.topRightCorner<3, 1>() + f * (m.topRightCorner<3, 1>() - m0.topRightCorner<3, 1>());
    }
  }
  return h;
}

Datasets& Data() {
  static Datasets* d = [] {
    auto* out = new Datasets;
    out->root = data::testing::MakeTempDir("loader");
    out->robot = out->root + "/robot";
    out->aloha = out->root + "/aloha";
    out->human = out->root + "/human";
    out->cache = out->root + "/cache";
    int i = 0;
    for (int frames : {31, 40, 46}) {
      data::RobotEpisode e = data::testing::MakeRobotEpisode(Embodiment::kPiper, frames);
      e.control_hz = 30;
      EXPECT_TRUE(data::WriteRoboTwinEpisode(out->robot + "/piper_clean", i++, e).ok());
    }
    data::RobotEpisode a = data::testing::MakeRobotEpisode(Embodiment::kAlohaAgilex, 31);
    a.control_hz = 30;
    EXPECT_TRUE(data::WriteRoboTwinEpisode(out->aloha + "/aloha_clean", 0, a).ok());
    for (int k = 0; k < 2; ++k) {
      data::HumanEpisode h = SlowHands(data::testing::MakeHumanEpisode(31));
      EXPECT_TRUE(data::WriteEgoDexEpisode(out->human + "/task/" + std::to_string(k) + ".hdf5", h).ok());
    }
    return out;
  }();
  return *d;
}

LoaderOptions Options() {
  LoaderOptions o;
  o.sources = {{"sim_robot", Data().robot, 3.0, Embodiment::kAlohaAgilex},
               {"human", Data().human, 1.0, Embodiment::kAlohaAgilex}};
  o.batch_size = 4;
  o.workers = 2;
  o.prefetch_batches = 3;
  o.seed = 42;
  o.horizon = 4;
  o.image_size = 28;
  o.max_text_tokens = 16;
  o.tokenizer_path = std::string(MIVLA_SOURCE_DIR) + "/" + tokenizer::kTinyTokenizerModelPath;
  o.complements.human_target = Embodiment::kPiper;
  o.complements.cache_dir = Data().cache;
  return o;
}

std::unique_ptr<DataLoader> MakeLoader(const LoaderOptions& o) {
  auto loader = DataLoader::Create(o);
  EXPECT_TRUE(loader.ok()) << loader.status();
  return loader.ok() ? std::move(*loader) : nullptr;
}

void ExpectSameBatch(const TrainBatch& a, const TrainBatch& b) {
  EXPECT_EQ(a.index, b.index);
  EXPECT_EQ(a.sources, b.sources);
  EXPECT_EQ(a.episodes, b.episodes);
  EXPECT_EQ(a.frames, b.frames);
  const auto pairs = std::vector<std::pair<torch::Tensor, torch::Tensor>>{
      {a.inputs.images, b.inputs.images},       {a.inputs.view_mask, b.inputs.view_mask},
      {a.inputs.text_ids, b.inputs.text_ids},   {a.inputs.text_mask, b.inputs.text_mask},
      {a.inputs.state, b.inputs.state},         {a.inputs.state_mask, b.inputs.state_mask},
      {a.inputs.embodiment, b.inputs.embodiment}, {a.targets.actions, b.targets.actions},
      {a.targets.label_mask, b.targets.label_mask}, {a.targets.complement_mask, b.targets.complement_mask},
      {a.targets.step_mask, b.targets.step_mask}};
  for (size_t k = 0; k < pairs.size(); ++k) EXPECT_TRUE(torch::equal(pairs[k].first, pairs[k].second)) << k;
}

TrainBatch Cat(const TrainBatch& a, const TrainBatch& b) {
  TrainBatch c = a;
  auto cat = [](const torch::Tensor& x, const torch::Tensor& y) { return torch::cat({x, y}, 0); };
  c.inputs.images = cat(a.inputs.images, b.inputs.images);
  c.inputs.view_mask = cat(a.inputs.view_mask, b.inputs.view_mask);
  c.inputs.text_ids = cat(a.inputs.text_ids, b.inputs.text_ids);
  c.inputs.text_mask = cat(a.inputs.text_mask, b.inputs.text_mask);
  c.inputs.state = cat(a.inputs.state, b.inputs.state);
  c.inputs.state_mask = cat(a.inputs.state_mask, b.inputs.state_mask);
  c.inputs.embodiment = cat(a.inputs.embodiment, b.inputs.embodiment);
  c.targets.actions = cat(a.targets.actions, b.targets.actions);
  c.targets.label_mask = cat(a.targets.label_mask, b.targets.label_mask);
  c.targets.complement_mask = cat(a.targets.complement_mask, b.targets.complement_mask);
  c.targets.step_mask = cat(a.targets.step_mask, b.targets.step_mask);
  for (auto* v : {&c.sources, &c.episodes}) v->clear();
  c.frames.clear();
  for (const TrainBatch* x : {&a, &b}) {
    c.sources.insert(c.sources.end(), x->sources.begin(), x->sources.end());
    c.episodes.insert(c.episodes.end(), x->episodes.begin(), x->episodes.end());
    c.frames.insert(c.frames.end(), x->frames.begin(), x->frames.end());
  }
  return c;
}

TEST(DataLoaderTest, LoadsSourcesAndReportsThem) {
  std::vector<std::string> lines;
  LoaderOptions o = Options();
  o.on_progress = [&](const std::string& line) { lines.push_back(line); };
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  const LoadReport& r = loader->report();
  ASSERT_EQ(r.sources.size(), 2u);
  EXPECT_EQ(r.sources[0].name, "sim_robot");
  EXPECT_EQ(r.sources[0].episodes, 3);
  EXPECT_EQ(r.sources[0].raw_frames, 31 + 40 + 46);
  EXPECT_EQ(r.sources[0].frames, 11 + 14 + 16);  // 30 Hz -> 10 Hz
  EXPECT_EQ(r.sources[1].episodes, 2);
  EXPECT_EQ(r.sources[1].frames, 2 * 11);
  EXPECT_EQ(r.sources[0].ik_failures, 0);
  EXPECT_EQ(r.sources[1].ik_failures, 0);
  EXPECT_TRUE(r.skipped.empty());
  EXPECT_GT(r.frame_bytes, 0);
  EXPECT_EQ(lines.size(), 5u);
  auto b = loader->Next();
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(b->index, 0u);
  EXPECT_EQ(b->inputs.images.sizes(), (torch::IntArrayRef{4, 3, 3, 28, 28}));
  EXPECT_EQ(b->targets.actions.sizes(), (torch::IntArrayRef{4, 4, kActionDim}));
  EXPECT_EQ(loader->next_index(), 1u);
  // Mutual imitation: robot samples carry human complement slots, human samples robot ones (PiPER's).
  int human = 0, robot = 0;
  for (int i = 0; i < 10; ++i) {
    auto batch = i == 0 ? std::move(b) : loader->Next();
    ASSERT_TRUE(batch.ok());
    for (int j = 0; j < o.batch_size; ++j) {
      const torch::Tensor c = batch->targets.complement_mask[j];
      const torch::Tensor l = batch->targets.label_mask[j];
      EXPECT_EQ((c * l).sum().item<float>(), 0.0f);  // disjoint
      const bool is_human = batch->sources[j] == "human";
      (is_human ? human : robot)++;
      const torch::Tensor human_slots = c.narrow(0, 0, action::kHumanDim).sum();
      const torch::Tensor robot_slots = c.narrow(0, action::kHumanDim, kActionDim - action::kHumanDim).sum();
      if (is_human) {
        EXPECT_EQ(human_slots.item<float>(), 0.0f);
        EXPECT_EQ(l.narrow(0, 0, action::kHumanDim).sum().item<float>(), 48.0f);
        EXPECT_GT(robot_slots.item<float>(), 0.0f) << "no robot complement for a human sample";
      } else {
        EXPECT_EQ(robot_slots.item<float>(), 0.0f);
        EXPECT_EQ(human_slots.item<float>(), 24.0f);  // PiPER: one arm -> the right hand
      }
    }
  }
  EXPECT_GT(human, 0);
  EXPECT_GT(robot, 0);
}

TEST(DataLoaderTest, BatchesArePureFunctionsOfSeedAndIndex) {
  LoaderOptions o = Options();
  auto a = MakeLoader(o);
  ASSERT_NE(a, nullptr);
  std::vector<TrainBatch> seq;
  for (int i = 0; i < 6; ++i) {
    auto b = a->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    EXPECT_EQ(b->index, static_cast<uint64_t>(i));
    seq.push_back(std::move(*b));
  }
  // A fresh loader with another worker count, sought to 4, gives batches 4 and 5 again.
  o.workers = 1;
  o.prefetch_batches = 1;
  auto fresh = MakeLoader(o);
  ASSERT_NE(fresh, nullptr);
  ASSERT_TRUE(fresh->SeekTo(4).ok());
  EXPECT_EQ(fresh->next_index(), 4u);
  for (int i = 4; i < 6; ++i) {
    auto b = fresh->Next();
    ASSERT_TRUE(b.ok());
    ExpectSameBatch(*b, seq[i]);
  }
  // Without workers, Next() builds on the calling thread: the same batches.
  o.workers = 0;
  auto inline_loader = MakeLoader(o);
  ASSERT_NE(inline_loader, nullptr);
  for (int i = 0; i < 2; ++i) ExpectSameBatch(*inline_loader->Next(), seq[i]);
  // Seeking back on a running loader, and building synchronously, agree too.
  ASSERT_TRUE(a->SeekTo(1).ok());
  auto again = a->Next();
  ASSERT_TRUE(again.ok());
  ExpectSameBatch(*again, seq[1]);
  ExpectSameBatch(*a->MakeBatch(2), seq[2]);
  // Another seed gives other samples.
  o.seed = 43;
  auto other = MakeLoader(o);
  auto ob = other->Next();
  EXPECT_FALSE(ob->frames == seq[0].frames && ob->episodes == seq[0].episodes &&
               torch::equal(ob->inputs.images, seq[0].inputs.images));
}

TEST(DataLoaderTest, TwoRanksTogetherEqualOneRankWithTheDoubledBatch) {
  LoaderOptions o = Options();
  o.batch_size = 8;
  auto one = MakeLoader(o);
  o.batch_size = 4;
  o.world_size = 2;
  auto r0 = MakeLoader(o);
  o.rank = 1;
  auto r1 = MakeLoader(o);
  ASSERT_TRUE(one && r0 && r1);
  EXPECT_TRUE(r0->normalization() == r1->normalization());
  EXPECT_TRUE(r0->normalization() == one->normalization());
  for (uint64_t i : {0u, 3u}) {
    auto full = one->MakeBatch(i);
    auto a = r0->MakeBatch(i);
    auto b = r1->MakeBatch(i);
    ASSERT_TRUE(full.ok() && a.ok() && b.ok());
    ExpectSameBatch(Cat(*a, *b), *full);
    EXPECT_FALSE(a->frames == b->frames && a->episodes == b->episodes);
  }
}

TEST(DataLoaderTest, MixingFollowsTheWeights) {
  LoaderOptions o = Options();
  o.batch_size = 16;
  o.augment.enabled = false;
  o.image_size = 14;
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  std::map<std::string, int> counts;
  std::map<std::string, int> episodes;
  const int batches = 50;
  for (int i = 0; i < batches; ++i) {
    auto b = loader->Next();
    ASSERT_TRUE(b.ok());
    for (size_t j = 0; j < b->sources.size(); ++j) {
      ++counts[b->sources[j]];
      ++episodes[b->episodes[j]];
      // Embodiment matches the source.
      EXPECT_EQ(b->inputs.embodiment[j].item<int64_t>(),
                b->sources[j] == "human" ? 0 : static_cast<int64_t>(Embodiment::kPiper));
    }
  }
  const double n = 16.0 * batches;  // 800 samples; p = 0.75: sd 0.015
  EXPECT_NEAR(counts["sim_robot"] / n, 0.75, 0.06);
  EXPECT_NEAR(counts["human"] / n, 0.25, 0.06);
  EXPECT_EQ(episodes.size(), 5u);  // every episode drawn
}

TEST(DataLoaderTest, ResamplingTakesEveryThirdFrameForObservationAndChunk) {
  LoaderOptions o = Options();
  o.sources = {{"sim_robot", Data().robot, 1.0, Embodiment::kAlohaAgilex}};
  o.augment.enabled = false;
  o.frame_jpeg_quality = 0;
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  std::map<std::string, data::UnifiedEpisode> files;
  for (int i = 0; i < 5; ++i) {
    auto b = loader->Next();
    ASSERT_TRUE(b.ok());
    for (int j = 0; j < o.batch_size; ++j) {
      const std::string& path = b->episodes[j];
      if (!files.count(path)) {
        data::ComplementReport rep;
        data::LoadOptions load;
        auto e = data::LoadEpisodeWithComplements(path, load, o.complements, &rep);
        ASSERT_TRUE(e.ok()) << e.status();
        files[path] = std::move(*e);
      }
      const data::UnifiedEpisode& e = files[path];
      const int f = b->frames[j];
      EXPECT_EQ(f % 3, 0) << path;
      // State: the file's frame f; chunk step k: frame f + 3 (k + 1) (or padding past the end).
      const action::ActionMask own = action::EmbodimentMask(Embodiment::kPiper) & e.masks[f];
      std::array<float, kActionDim> state;
      for (int d = 0; d < kActionDim; ++d) state[d] = b->inputs.state[j][d].item<float>();
      loader->normalization().Denormalize(Embodiment::kPiper, state.data(), own);
      for (int d = 0; d < kActionDim; ++d) {
        if (own.test(d)) {
          EXPECT_NEAR(state[d], e.states[f][d], 1e-4) << d;
        }
      }
      for (int k = 0; k < o.horizon; ++k) {
        const int src = f + 3 * (k + 1);
        const bool valid = src < e.num_frames();
        EXPECT_EQ(b->targets.step_mask[j][k].item<float>(), valid ? 1.0f : 0.0f) << f << " " << k;
        if (!valid) continue;
        std::array<float, kActionDim> a;
        for (int d = 0; d < kActionDim; ++d) a[d] = b->targets.actions[j][k][d].item<float>();
        loader->normalization().Denormalize(Embodiment::kPiper, a.data(), own);
        for (int d = 0; d < kActionDim; ++d) {
          if (own.test(d)) {
            EXPECT_NEAR(a[d], e.states[src][d], 1e-4) << "frame " << src << " dim " << d;
          }
        }
      }
      // The image is the observation frame's (the test gradient encodes the frame in blue).
      const float blue = b->inputs.images[j][0][2].mean().item<float>() * 255.0f;
      EXPECT_NEAR(blue, (30 + 20 * f) % 220, 3.0) << path << " frame " << f;
    }
  }
}

TEST(DataLoaderTest, HumanVideoFramesAreTheResampledObservationFrames) {
  LoaderOptions o = Options();
  o.sources = {{"human", Data().human, 1.0, Embodiment::kAlohaAgilex}};
  o.augment.enabled = false;
  o.batch_size = 8;
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  std::map<int, int> frames;
  for (int i = 0; i < 3; ++i) {
    auto b = loader->Next();
    ASSERT_TRUE(b.ok());
    for (int j = 0; j < o.batch_size; ++j) {
      const int f = b->frames[j];
      ++frames[f];
      EXPECT_EQ(f % 3, 0);
      EXPECT_LT(f, 30);  // the last kept frame (30) has no future steps and is never an observation
      EXPECT_TRUE(b->inputs.view_mask[j][0].item<bool>());
      EXPECT_FALSE(b->inputs.view_mask[j][1].item<bool>());
      // The mp4 frame f (the test gradient encodes the frame in blue; mp4 is lossy).
      EXPECT_NEAR(b->inputs.images[j][0][2].mean().item<float>() * 255, (30 + 20 * f) % 220, 6.0) << f;
    }
  }
  EXPECT_GT(frames.size(), 3u);
}

TEST(DataLoaderTest, CamerasFollowTheNamedOrder) {
  LoaderOptions o = Options();
  o.sources = {{"aloha", Data().aloha, 1.0, Embodiment::kAlohaAgilex}};
  o.cameras = {"right_camera", "head_camera"};
  o.augment.enabled = false;
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  auto b = loader->Next();
  ASSERT_TRUE(b.ok());
  for (int j = 0; j < o.batch_size; ++j) {
    const int f = b->frames[j];
    EXPECT_TRUE(b->inputs.view_mask[j].all().item<bool>());
    // MakeRobotEpisode: camera c's frame t has blue (30 + 20 (t + 3c)) % 220 (head 0, left 1, right 2):
    // the named cameras first, then the unnamed left camera.
    EXPECT_NEAR(b->inputs.images[j][0][2].mean().item<float>() * 255, (30 + 20 * (f + 6)) % 220, 3.0);
    EXPECT_NEAR(b->inputs.images[j][1][2].mean().item<float>() * 255, (30 + 20 * f) % 220, 3.0);
    EXPECT_NEAR(b->inputs.images[j][2][2].mean().item<float>() * 255, (30 + 20 * (f + 3)) % 220, 3.0);
    EXPECT_EQ(b->inputs.embodiment[j].item<int64_t>(), static_cast<int64_t>(Embodiment::kAlohaAgilex));
  }
}

TEST(DataLoaderTest, UnnamedCamerasFollowAndMaxViewsCuts) {
  LoaderOptions o = Options();
  o.sources = {{"aloha", Data().aloha, 1.0, Embodiment::kAlohaAgilex},
               {"human", Data().human, 1.0, Embodiment::kAlohaAgilex}};
  o.cameras = {"left_camera", "head_camera", "right_camera"};
  o.max_views = 2;
  o.augment.enabled = false;
  o.batch_size = 8;
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  auto b = loader->Next();
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->inputs.view_mask.size(1), 2);
  for (int j = 0; j < o.batch_size; ++j) {
    const int f = b->frames[j];
    const float blue0 = b->inputs.images[j][0][2].mean().item<float>() * 255;
    if (b->sources[j] == "human") {  // EgoDex's "camera" is not named but still the first view
      EXPECT_TRUE(b->inputs.view_mask[j][0].item<bool>());
      EXPECT_FALSE(b->inputs.view_mask[j][1].item<bool>());
      EXPECT_NEAR(blue0, (30 + 20 * f) % 220, 6.0);
    } else {  // left, head; right is cut by max_views
      EXPECT_TRUE(b->inputs.view_mask[j].all().item<bool>());
      EXPECT_NEAR(blue0, (30 + 20 * (f + 3)) % 220, 3.0);
      EXPECT_NEAR(b->inputs.images[j][1][2].mean().item<float>() * 255, (30 + 20 * f) % 220, 3.0);
    }
  }
}

TEST(DataLoaderTest, CorruptEpisodeIsSkippedAndReported) {
  const std::string dir = data::testing::MakeTempDir("corrupt");
  fs::create_directories(dir + "/piper_clean/data");
  fs::copy(Data().robot + "/piper_clean/data/episode0.hdf5", dir + "/piper_clean/data/episode0.hdf5");
  fs::copy(Data().robot + "/piper_clean/data/episode1.hdf5", dir + "/piper_clean/data/episode1.hdf5");
  const std::string bad = dir + "/piper_clean/data/episode1.hdf5";
  fs::resize_file(bad, fs::file_size(bad) / 2);
  LoaderOptions o = Options();
  o.sources = {{"sim_robot", dir, 1.0, Embodiment::kAlohaAgilex}};
  std::vector<std::string> lines;
  o.on_progress = [&](const std::string& line) { lines.push_back(line); };
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  ASSERT_EQ(loader->report().skipped.size(), 1u);
  EXPECT_EQ(loader->report().skipped[0].path, bad);
  EXPECT_FALSE(loader->report().skipped[0].reason.empty());
  EXPECT_EQ(loader->report().sources[0].episodes, 1);
  bool said = false;
  for (const std::string& l : lines) said = said || l.find("skipping " + bad) != std::string::npos;
  EXPECT_TRUE(said);
  EXPECT_TRUE(loader->Next().ok());
  // A source whose only episode is corrupt is an error naming the source.
  fs::remove(dir + "/piper_clean/data/episode0.hdf5");
  auto none = DataLoader::Create(o);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(std::string(none.status().message()).find("sim_robot"), std::string::npos) << none.status();
  EXPECT_NE(std::string(none.status().message()).find(bad), std::string::npos) << none.status();
}

TEST(DataLoaderTest, IkFailuresAndCachedComplementsAreReported) {
  // The helper's unslowed hands leave PiPER's reach: some frames' IK fails and is counted.
  const std::string dir = data::testing::MakeTempDir("fast_hands");
  ASSERT_TRUE(data::WriteEgoDexEpisode(dir + "/task/0.hdf5", data::testing::MakeHumanEpisode(31)).ok());
  LoaderOptions o = Options();
  o.sources = {{"human", dir, 1.0, Embodiment::kAlohaAgilex}};
  o.complements.cache_dir = data::testing::MakeTempDir("fast_hands_cache");
  auto first = MakeLoader(o);
  ASSERT_NE(first, nullptr);
  const LoadReport::Src r = first->report().sources[0];
  EXPECT_GT(r.ik_failures, 0);
  EXPECT_LT(r.ik_failures, 31);
  EXPECT_EQ(r.complements_cached, 0);
  auto second = MakeLoader(o);
  ASSERT_NE(second, nullptr);
  EXPECT_EQ(second->report().sources[0].complements_cached, 1);
  EXPECT_EQ(second->report().sources[0].ik_failures, r.ik_failures);
  ExpectSameBatch(*first->MakeBatch(0), *second->MakeBatch(0));
}

TEST(DataLoaderTest, GraspBoostDrawsTheFramesAroundAGripperClosingMoreOften) {
  // 60 frames at 30 Hz (20 at the loader's 10 Hz); the gripper closes at file frame 30 (kept frame 10).
  const std::string dir = data::testing::MakeTempDir("grasp");
  data::RobotEpisode e = data::testing::MakeRobotEpisode(Embodiment::kPiper, 60);
  e.control_hz = 30;
  for (int t = 0; t < 60; ++t) e.arms[1].gripper[t] = t < 30 ? 0.07 : 0.02;
  ASSERT_TRUE(data::WriteRoboTwinEpisode(dir + "/piper_grasp", 0, e).ok());
  LoaderOptions o = Options();
  o.sources = {{"grasp", dir, 1.0, Embodiment::kAlohaAgilex}};
  o.batch_size = 16;
  o.augment.enabled = false;
  o.image_size = 14;
  // Kept frames 7..11 (0.3 s before, 0.1 s after) weigh 20, the other 14 drawable frames 1.
  o.grasp_boost = {.factor = 20, .before_s = 0.3, .after_s = 0.1};
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  EXPECT_EQ(loader->report().sources[0].grasps, 1);
  EXPECT_EQ(loader->report().sources[0].grasp_frames, 5);
  int near = 0, n = 0;
  for (int i = 0; i < 50; ++i) {
    auto b = loader->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    for (int f : b->frames) {
      ++n;
      if (f >= 21 && f <= 33) ++near;
    }
  }
  EXPECT_NEAR(static_cast<double>(near) / n, 100.0 / 114.0, 0.06);  // uniform would give 5 / 19

  // A source's own factor overrides the data's: at 1 it draws uniformly and counts nothing.
  o.sources = {{"boosted", dir, 1.0, Embodiment::kAlohaAgilex}, {"plain", dir, 1.0, Embodiment::kAlohaAgilex, "", 1.0}};
  auto two = MakeLoader(o);
  ASSERT_NE(two, nullptr);
  EXPECT_EQ(two->report().sources[0].grasp_frames, 5);
  EXPECT_EQ(two->report().sources[1].grasps, 0);
  EXPECT_EQ(two->report().sources[1].grasp_frames, 0);
  int plain_near = 0, plain_n = 0;
  for (int i = 0; i < 100; ++i) {
    auto b = two->Next();
    ASSERT_TRUE(b.ok()) << b.status();
    for (size_t j = 0; j < b->frames.size(); ++j) {
      if (b->sources[j] != "plain") continue;
      ++plain_n;
      if (b->frames[j] >= 21 && b->frames[j] <= 33) ++plain_near;
    }
  }
  EXPECT_NEAR(static_cast<double>(plain_near) / plain_n, 5.0 / 19.0, 0.07);
  o.sources[1].grasp_boost = -2;
  auto negative = DataLoader::Create(o);
  ASSERT_FALSE(negative.ok());
  EXPECT_NE(std::string(negative.status().message()).find("source 'plain': grasp_boost"), std::string::npos)
      << negative.status();
  o.sources.pop_back();
  o.grasp_boost.factor = 0;
  auto bad = DataLoader::Create(o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(std::string(bad.status().message()).find("grasp_boost"), std::string::npos) << bad.status();
}

TEST(DataLoaderTest, BadOptionsAndSourcesAreClearErrors) {
  auto message = [](const LoaderOptions& o) { return std::string(DataLoader::Create(o).status().message()); };
  LoaderOptions o = Options();
  o.sources[1].path = Data().root + "/nowhere";
  EXPECT_NE(message(o).find("'human': directory"), std::string::npos) << message(o);
  EXPECT_EQ(DataLoader::Create(o).status().code(), absl::StatusCode::kNotFound);
  o = Options();
  o.sources[1].path = data::testing::MakeTempDir("empty");
  EXPECT_NE(message(o).find("no episode files"), std::string::npos) << message(o);
  o = Options();
  o.sources[0].weight = 0;
  EXPECT_NE(message(o).find("weight"), std::string::npos);
  o = Options();
  o.sources.clear();
  EXPECT_NE(message(o).find("no sources"), std::string::npos);
  o = Options();
  o.rank = 2;
  o.world_size = 2;
  EXPECT_NE(message(o).find("rank"), std::string::npos);
  o = Options();
  o.tokenizer_path = Data().root + "/missing.model";
  EXPECT_NE(message(o).find("tokenizer"), std::string::npos);
}

// The embodiment's own non-rotation dimensions (normalisation scales these).
std::vector<int> Dims(Embodiment e) {
  std::vector<int> out;
  const action::ActionMask m = action::EmbodimentMask(e);
  for (int d = 0; d < action::kActionDim; ++d) {
    if (m[d] && !action::IsRotationDim(d)) out.push_back(d);
  }
  return out;
}

TEST(DataLoaderTest, GivenNormalizationIsKeptAndItsUnseenEmbodimentsComeFromTheData) {
  // A "pre-training checkpoint's" statistics that saw PiPER only; the fine-tuning data is ALOHA.
  action::NormalizationStatsBuilder nb;
  std::vector<float> v(action::kActionDim, 0.5f);
  nb.Add(Embodiment::kPiper, v.data(), action::EmbodimentMask(Embodiment::kPiper));
  v.assign(action::kActionDim, 2.5f);
  nb.Add(Embodiment::kPiper, v.data(), action::EmbodimentMask(Embodiment::kPiper));
  const action::NormalizationStats kept = nb.Build();
  LoaderOptions o = Options();
  o.normalization = &kept;
  o.sources = {{"aloha", Data().aloha, 1.0, Embodiment::kAlohaAgilex}};
  auto loader = MakeLoader(o);
  ASSERT_NE(loader, nullptr);
  const action::NormalizationStats& used = loader->normalization();
  const int piper_dim = Dims(Embodiment::kPiper).front();
  EXPECT_EQ(used.stats(Embodiment::kPiper, piper_dim).max, 2.5);  // kept
  EXPECT_EQ(used.stats(Embodiment::kPiper, piper_dim).count, 2);
  int aloha_seen = 0;
  for (int d : Dims(Embodiment::kAlohaAgilex)) {
    if (used.stats(Embodiment::kAlohaAgilex, d).count > 0) ++aloha_seen;  // filled from the data
  }
  EXPECT_GT(aloha_seen, 0);
  auto b = loader->Next();
  ASSERT_TRUE(b.ok());
  // Scaled by the data's own range now: normalised state values lie in [-1, 1] (not raw radians).
  EXPECT_LT(b->inputs.state.abs().max().item<float>(), 1.5f);
}

TEST(DataLoaderTest, FillUnseenStatsTakesOnlyDimensionsTheKeptStatisticsNeverSaw) {
  std::vector<float> v(action::kActionDim, 1.0f);
  action::NormalizationStatsBuilder kb, db;
  kb.Add(Embodiment::kHuman, v.data(), action::EmbodimentMask(Embodiment::kHuman));
  v.assign(action::kActionDim, 3.0f);
  kb.Add(Embodiment::kHuman, v.data(), action::EmbodimentMask(Embodiment::kHuman));
  for (float x : {-4.0f, 8.0f}) {
    v.assign(action::kActionDim, x);
    db.Add(Embodiment::kHuman, v.data(), action::EmbodimentMask(Embodiment::kHuman));
    db.Add(Embodiment::kPiper, v.data(), action::EmbodimentMask(Embodiment::kPiper));
  }
  const action::NormalizationStats kept = kb.Build(), data = db.Build();
  int filled = -1;
  const action::NormalizationStats merged = FillUnseenStats(kept, data, &filled);
  const int human_dim = Dims(Embodiment::kHuman).front();
  const int piper_dim = Dims(Embodiment::kPiper).front();
  EXPECT_EQ(merged.stats(Embodiment::kHuman, human_dim).max, 3.0);  // seen before: kept
  EXPECT_EQ(merged.stats(Embodiment::kPiper, piper_dim).max, 8.0);  // never seen: the data's
  EXPECT_EQ(merged.stats(Embodiment::kPiper, piper_dim).min, -4.0);
  EXPECT_EQ(filled, static_cast<int>(action::EmbodimentMask(Embodiment::kPiper).count()));
  EXPECT_TRUE(FillUnseenStats(kept, kept, &filled) == kept);
  EXPECT_EQ(filled, 0);
}

}  // namespace
}  // namespace mivla::trainer
