#include "core/data/complements.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "core/data/complement_cache.h"
#include "core/data/native_format.h"
#include "core/data/normalization.h"
#include "core/data/sample_reader.h"
#include "core/data/test_util.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/retarget/hand_prior.h"
#include "core/retarget/human_to_robot.h"
#include "core/retarget/robot_to_human.h"
#include "gtest/gtest.h"

namespace mivla::data {
namespace {

using action::ActionMask;
using action::Embodiment;
using action::SliceMask;
using kinematics::Side;

kinematics::HandDescription Hand() { return *kinematics::LoadHandDescription(); }
kinematics::EmbodimentDescription Robot(Embodiment e) { return *kinematics::LoadEmbodiment(e); }
ComplementOptions Target(Embodiment e) {
  ComplementOptions o;
  o.human_target = e;
  return o;
}
SampleOptions Chunk(int horizon) {
  SampleOptions o;
  o.horizon = horizon;
  o.with_images = false;
  return o;
}

// A human episode in the ARKit world: both hands 0.4 m in front of the user and 0.3 m below the head,
// moving up, away and sideways over `frames` frames (a few cm), turning slightly and opening the pinch.
// `jump_frame`: that frame's right hand is 3 m away (no robot can follow: an IK failure).
UnifiedEpisode HumanEpisodeInArkit(int frames, int jump_frame = -1) {
  const retarget::HandPrior prior = *retarget::HandPrior::Create(Hand());
  UnifiedEpisode ep;
  ep.embodiment = Embodiment::kHuman;
  ep.source = "synthetic_human";
  ep.instruction = "pick up the cup";
  ep.instructions = {"pick up the cup", "grab the cup"};
  ep.fps = 30;
  for (int t = 0; t < frames; ++t) {
    retarget::HumanHands hands;
    for (Side s : {Side::kLeft, Side::kRight}) {
      const double side = s == Side::kLeft ? -1.0 : 1.0;
      Eigen::Isometry3d w = Eigen::Isometry3d::Identity();
      w.linear() = Eigen::AngleAxisd(0.02 * t * side, Eigen::Vector3d::UnitY()).toRotationMatrix();
      w.translation() = Eigen::Vector3d(0.15 * side + 0.002 * t, -0.3 + 0.004 * t, -0.4 - 0.003 * t);
      if (t == jump_frame && s == Side::kRight) w.translation().z() -= 3.0;
      hands.Set(s, prior.HandAt(w, s, 0.2 + 0.05 * t));
    }
    UnifiedVector v{};
    ActionMask m;
    retarget::WriteHumanSlices(hands, v.data(), &m);
    ep.states.push_back(v);
    ep.masks.push_back(m);
  }
  return ep;
}

// What the data path must produce for a human episode, computed by calling the mapper directly.
std::vector<std::vector<retarget::ArmCommand>> DirectHumanToRobot(const UnifiedEpisode& ep, Embodiment target) {
  auto mapper = retarget::HumanToRobotMapper::Create(Robot(target), Hand(), {});
  EXPECT_TRUE(mapper.ok());
  std::vector<std::vector<retarget::ArmCommand>> out;
  for (int t = 0; t < ep.num_frames(); ++t) {
    retarget::Human48 h{};
    std::copy(ep.states[t].begin(), ep.states[t].begin() + action::kHumanDim, h.begin());
    auto hands = retarget::HandsFromHuman48(h);
    EXPECT_TRUE(hands.ok());
    if (t == 0) {
      EXPECT_TRUE(mapper->Reset(*hands).ok());
    }
    auto cmds = mapper->Step(*hands);
    EXPECT_TRUE(cmds.ok());
    out.push_back(*cmds);
  }
  return out;
}

TEST(ComplementsTest, HumanEpisodeMatchesDirectHumanToRobotCalls) {
  for (Embodiment target : {Embodiment::kPiper, Embodiment::kAlohaAgilex}) {
    UnifiedEpisode ep = HumanEpisodeInArkit(8);
    const UnifiedEpisode before = ep;
    auto report = AddComplements(ep, Target(target));
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->frames, 8);
    EXPECT_EQ(report->ik_failures, 0);
    EXPECT_EQ(ep.complement_embodiment, target);
    ASSERT_EQ(ep.complement_masks.size(), 8u);
    const kinematics::EmbodimentDescription robot = Robot(target);
    const auto direct = DirectHumanToRobot(before, target);
    for (int t = 0; t < 8; ++t) {
      EXPECT_EQ(ep.masks[t], before.masks[t]);  // the labelled slots are untouched
      EXPECT_EQ(ep.complement_masks[t], action::EmbodimentMask(target)) << t;
      EXPECT_FALSE((ep.complement_masks[t] & ep.masks[t]).any());
      for (int d = 0; d < action::kHumanDim; ++d) EXPECT_EQ(ep.states[t][d], before.states[t][d]);
      double want[action::kActionDim] = {};
      retarget::WriteRobotSlices(robot, direct[t], want, nullptr);
      for (int d = 48; d < action::kActionDim; ++d) {
        if (ep.complement_masks[t].test(d)) {
          EXPECT_EQ(ep.states[t][d], want[d]) << "frame " << t << " slot " << d;
        }
      }
    }
    // The motion shows in the robot slots: hands rose 2.8 cm over the episode, the end effectors too (+z base).
    const int ee_z = action::kEndEffectorRight.begin + action::kEePos + 2;
    EXPECT_NEAR(ep.states[7][ee_z] - ep.states[0][ee_z], 0.028, 2e-3) << action::EmbodimentName(target);
  }
}

TEST(ComplementsTest, IkFailureFramesAreMaskedAndCounted) {
  UnifiedEpisode ep = HumanEpisodeInArkit(6, /*jump_frame=*/3);
  auto report = AddComplements(ep, Target(Embodiment::kAlohaAgilex));
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->ik_failures, 1);
  const ActionMask right = SliceMask(action::kJointsRight) | SliceMask(action::kEndEffectorRight);
  const ActionMask left = SliceMask(action::kJointsLeft) | SliceMask(action::kEndEffectorLeft);
  for (int t = 0; t < 6; ++t) {
    EXPECT_EQ(ep.complement_masks[t], t == 3 ? left : (left | right)) << t;
    if (t == 3) {
      for (int d = action::kJointsRight.begin; d < action::kJointsRight.end(); ++d) EXPECT_EQ(ep.states[t][d], 0.0);
    }
  }
  // A sample whose chunk covers the failed frame drops the right arm's complement; one after it keeps it.
  auto s = MakeSample(ep, 1, Chunk(3));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->complement_mask, left);
  s = MakeSample(ep, 3, Chunk(2));
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->complement_mask, left | right);
}

TEST(ComplementsTest, RobotEpisodeMatchesDirectRobotToHumanCalls) {
  for (Embodiment e : {Embodiment::kAlohaAgilex, Embodiment::kPiper}) {
    auto u = UnifyRobotEpisode(testing::MakeRobotEpisode(e, 5, 0, 0));
    ASSERT_TRUE(u.ok()) << u.status();
    UnifiedEpisode ep = *u;
    auto report = AddComplements(ep, {});
    ASSERT_TRUE(report.ok()) << report.status();
    EXPECT_EQ(report->ik_failures, 0);
    EXPECT_EQ(ep.complement_embodiment, Embodiment::kHuman);
    const kinematics::EmbodimentDescription robot = Robot(e);
    auto r2h = retarget::RobotToHumanMapper::Create(robot, Hand(), {});
    ASSERT_TRUE(r2h.ok());
    auto joints = [&](int t, Side side) {
      const int b = side == Side::kLeft ? action::kJointsLeft.begin : action::kJointsRight.begin;
      kinematics::JointVector q(6);
      for (int j = 0; j < 6; ++j) q[j] = u->states[t][b + j];
      return std::make_pair(q, u->states[t][b + action::kArmGripper]);
    };
    std::vector<kinematics::JointVector> q0;
    for (const auto& arm : robot.arms) q0.push_back(joints(0, arm.side).first);
    ASSERT_TRUE(r2h->Reset(q0, {}).ok());
    ActionMask hands_mask;
    for (const auto& arm : robot.arms) hands_mask |= SliceMask(arm.side == Side::kLeft ? action::kHumanLeft : action::kHumanRight);
    EXPECT_EQ(hands_mask, action::ComplementMask(e));
    for (int t = 0; t < 5; ++t) {
      std::vector<kinematics::JointVector> q;
      std::vector<double> g;
      for (const auto& arm : robot.arms) {
        q.push_back(joints(t, arm.side).first);
        g.push_back(joints(t, arm.side).second);
      }
      auto hands = r2h->Map(q, g);
      ASSERT_TRUE(hands.ok());
      const retarget::Human48 want = retarget::HandsToHuman48(*hands);
      EXPECT_EQ(ep.complement_masks[t], hands_mask);
      for (int d = 0; d < action::kHumanDim; ++d) {
        if (hands_mask.test(d)) {
          EXPECT_EQ(ep.states[t][d], want[d]) << t << " " << d;
        }
      }
      for (int d = action::kHumanDim; d < action::kActionDim; ++d) EXPECT_EQ(ep.states[t][d], u->states[t][d]);
    }
  }
}

TEST(ComplementsTest, BadTargetAndBadEpisodeAreClearErrors) {
  UnifiedEpisode ep = HumanEpisodeInArkit(2);
  auto r = AddComplements(ep, Target(Embodiment::kHuman));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("not a robot"), std::string::npos) << r.status();
  ep.masks.pop_back();
  r = AddComplements(ep, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(std::string(r.status().message()).find("synthetic_human"), std::string::npos) << r.status();
}

class ComplementCacheTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("complements");
    path_ = dir_ + "/ep.hdf5";
    UnifiedEpisode ep = HumanEpisodeInArkit(6);
    ASSERT_TRUE(WriteNativeEpisode(path_, ep).ok());
    options_.cache_dir = dir_ + "/cache";
  }
  absl::StatusOr<UnifiedEpisode> Load(ComplementReport* r) {
    return LoadEpisodeWithComplements(path_, {}, options_, r);
  }
  std::string CacheFile() {
    auto key = ComplementCacheKey(path_, Embodiment::kHuman, {}, options_);
    EXPECT_TRUE(key.ok());
    return ComplementCachePath(options_.cache_dir, *key);
  }
  static void ExpectSameComplements(const UnifiedEpisode& a, const UnifiedEpisode& b) {
    ASSERT_EQ(a.complement_masks, b.complement_masks);
    for (int t = 0; t < a.num_frames(); ++t) {
      for (int d = 0; d < action::kActionDim; ++d) EXPECT_EQ(a.states[t][d], b.states[t][d]) << t << " " << d;
    }
  }
  std::string dir_, path_;
  ComplementOptions options_;
};

TEST_F(ComplementCacheTest, SecondLoadComesFromTheCacheAndMatches) {
  ComplementReport r1, r2;
  auto first = Load(&r1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(r1.from_cache);
  EXPECT_TRUE(std::filesystem::exists(CacheFile()));
  auto second = Load(&r2);
  ASSERT_TRUE(second.ok());
  EXPECT_TRUE(r2.from_cache);
  EXPECT_EQ(r2.frames, r1.frames);
  EXPECT_EQ(second->complement_embodiment, Embodiment::kPiper);
  ExpectSameComplements(*first, *second);
  // Another target robot is another entry.
  options_.human_target = Embodiment::kArx5;
  ComplementReport r3;
  auto arx = Load(&r3);
  ASSERT_TRUE(arx.ok());
  EXPECT_FALSE(r3.from_cache);
  EXPECT_EQ(arx->complement_embodiment, Embodiment::kArx5);
}

TEST_F(ComplementCacheTest, ChangedFileInvalidatesTheEntry) {
  ComplementReport r;
  ASSERT_TRUE(Load(&r).ok());
  // Rewrite the episode (other motion) with a later mtime: the cache must not answer for it.
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  UnifiedEpisode other = HumanEpisodeInArkit(6);
  for (auto& v : other.states) v[action::kHumanRight.begin + 1] += 0.05;  // right wrist 5 cm higher
  ASSERT_TRUE(WriteNativeEpisode(path_, other).ok());
  auto reloaded = Load(&r);
  ASSERT_TRUE(reloaded.ok());
  EXPECT_FALSE(r.from_cache);
  UnifiedEpisode direct = *LoadUnifiedEpisode(path_, {});
  ASSERT_TRUE(AddComplements(direct, options_).ok());
  ExpectSameComplements(*reloaded, direct);
}

TEST_F(ComplementCacheTest, CorruptEntryIsRecomputedNeverTrusted) {
  ComplementReport r;
  auto good = Load(&r);
  ASSERT_TRUE(good.ok());
  const std::string file = CacheFile();
  std::string bytes;
  {
    std::ifstream in(file, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(bytes.size(), 200u);
  for (const std::string& bad : {bytes.substr(0, bytes.size() / 2),                         // truncated
                                 [&] { std::string b = bytes; b[b.size() - 40] ^= 0x10; return b; }(),  // a value flipped
                                 std::string("garbage")}) {
    {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      out << bad;
    }
    auto again = Load(&r);
    ASSERT_TRUE(again.ok()) << again.status();
    EXPECT_FALSE(r.from_cache);
    ExpectSameComplements(*good, *again);
    ASSERT_TRUE(Load(&r).ok());
    EXPECT_TRUE(r.from_cache);  // the entry was rewritten
  }
}

TEST(NormalizationStatsTest, ComplementSlotsCountForTheEpisodesEmbodiment) {
  UnifiedEpisode human = HumanEpisodeInArkit(5);
  ASSERT_TRUE(AddComplements(human, Target(Embodiment::kPiper)).ok());
  auto robot = UnifyRobotEpisode(testing::MakeRobotEpisode(Embodiment::kPiper, 4, 0, 0));
  ASSERT_TRUE(robot.ok());
  ASSERT_TRUE(AddComplements(*robot, {}).ok());
  const action::NormalizationStats stats = ComputeNormalizationStats({human, *robot});
  const int joint = action::kJointsRight.begin + 1;  // PiPER joint 2
  double lo = 1e9, hi = -1e9;
  for (const auto& v : human.states) {
    lo = std::min(lo, v[joint]);
    hi = std::max(hi, v[joint]);
  }
  EXPECT_EQ(stats.stats(Embodiment::kHuman, joint).count, 5);
  EXPECT_NEAR(stats.stats(Embodiment::kHuman, joint).min, lo, 1e-6);
  EXPECT_NEAR(stats.stats(Embodiment::kHuman, joint).max, hi, 1e-6);
  // The robot's human complement slots count for the PiPER row; its own joints too; never across rows.
  EXPECT_EQ(stats.stats(Embodiment::kPiper, action::kHumanRight.begin).count, 4);
  EXPECT_EQ(stats.stats(Embodiment::kPiper, joint).count, 4);
  EXPECT_EQ(stats.stats(Embodiment::kPiper, action::kHumanLeft.begin).count, 0);
  EXPECT_EQ(stats.stats(Embodiment::kHuman, action::kJointsLeft.begin).count, 0);
}

}  // namespace
}  // namespace mivla::data
