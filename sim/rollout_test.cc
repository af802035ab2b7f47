// File: rollout_test.cc
// The rollout recorder: the same seed gives the same episode (bit for bit) and different seeds differ;
// robot records carry joints, gripper opening and end-effector poses consistent with core/kinematics
// FK; human records carry the ARKit joints core/retarget/egodex.h reads, and they map back (z-up) onto
// the simulated wrist; rendering yields one 320x240 frame per camera and step, and a renderer reused
// across scenes draws each as a fresh one does; objects are moved only
// through contacts (no welds, no mocap objects); bad options are clear errors.
#include "sim/rollout.h"

#include <cmath>

#include "core/data/image.h"
#include "core/kinematics/embodiment_loader.h"
#include "core/retarget/egodex.h"
#include "gtest/gtest.h"
#include "sim/expert.h"
#include "sim/hand_mjcf.h"

namespace mivla::sim {
namespace {

using action::Embodiment;

EpisodeOptions Options(const std::string& task, Embodiment e, Mode mode, uint64_t seed) {
  EpisodeOptions o;
  o.task = task;
  o.embodiment = e;
  o.mode = mode;
  o.seed = seed;
  return o;
}

TEST(RolloutTest, SameSeedSameEpisode) {
  for (Embodiment e : {Embodiment::kArx5, Embodiment::kHuman}) {
    absl::StatusOr<Episode> a = RunEpisode(Options("stack_blocks", e, Mode::kHard, 42));
    absl::StatusOr<Episode> b = RunEpisode(Options("stack_blocks", e, Mode::kHard, 42));
    absl::StatusOr<Episode> c = RunEpisode(Options("stack_blocks", e, Mode::kHard, 43));
    ASSERT_TRUE(a.ok() && b.ok() && c.ok());
    ASSERT_EQ(a->num_steps, b->num_steps);
    EXPECT_EQ(a->instruction, b->instruction);
    EXPECT_EQ(a->table_height_m, b->table_height_m);
    EXPECT_NE(a->table_height_m, c->table_height_m);
    for (size_t t = 0; t < a->steps.size(); ++t) {
      const StepRecord& x = a->steps[t];
      const StepRecord& y = b->steps[t];
      ASSERT_EQ(x.arms.size(), y.arms.size());
      for (size_t k = 0; k < x.arms.size(); ++k) {
        ASSERT_EQ(x.arms[k].joints, y.arms[k].joints) << "step " << t;
        ASSERT_EQ(x.arms[k].gripper_m, y.arms[k].gripper_m) << "step " << t;
      }
      for (const auto& [joint, m] : x.transforms) ASSERT_EQ(m, y.transforms.at(joint)) << joint << " step " << t;
    }
  }
}

TEST(RolloutTest, RobotRecordsMatchKinematics) {
  absl::StatusOr<Episode> ep = RunEpisode(Options("lift_pot", Embodiment::kAlohaAgilex, Mode::kEasy, 5));
  ASSERT_TRUE(ep.ok()) << ep.status();
  ASSERT_GT(ep->num_steps, 10);
  ASSERT_EQ(static_cast<int>(ep->steps.size()), ep->num_steps);
  absl::StatusOr<Rig> rig = BuildRig(Embodiment::kAlohaAgilex, ep->table_height_m);
  ASSERT_TRUE(rig.ok());
  double max_opening = 0, min_opening = 1;
  for (const StepRecord& s : ep->steps) {
    ASSERT_EQ(s.arms.size(), 2u);
    for (size_t k = 0; k < 2; ++k) {
      const ArmRecord& arm = s.arms[k];
      ASSERT_EQ(arm.joints.size(), 6u);
      const Effector& eff = rig->effectors[k];
      EXPECT_EQ(arm.side, eff.side);
      kinematics::JointVector q(6);
      for (int j = 0; j < 6; ++j) q[j] = arm.joints[j];
      const Eigen::Isometry3d fk = eff.arm.chain.ForwardUnchecked(q);
      EXPECT_LT((fk.translation() - arm.ee_in_base.translation()).norm(), 1e-6);
      EXPECT_LT(((eff.base_world * fk).translation() - arm.ee_world.translation()).norm(), 1e-6);
      EXPECT_GE(arm.gripper_m, -1e-3);
      EXPECT_LE(arm.gripper_m, 0.07 + 1e-3);
      max_opening = std::max(max_opening, arm.gripper_m);
      min_opening = std::min(min_opening, arm.gripper_m);
    }
  }
  EXPECT_GT(max_opening, 0.06);  // open at the start
  EXPECT_LT(min_opening, 0.04);  // closed on a handle (0.03 m thick)
  EXPECT_TRUE(ep->success);
}

TEST(RolloutTest, HumanRecordsFeedEgoDexRetargeting) {
  absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(Options("press_bell", Embodiment::kHuman, Mode::kEasy, 3));
  ASSERT_TRUE(scene.ok()) << scene.status();
  const Eigen::Vector3d wrist = scene->env->WristWorld(scene->context.primary).translation();
  absl::StatusOr<Episode> ep = RunEpisode(Options("press_bell", Embodiment::kHuman, Mode::kEasy, 3));
  ASSERT_TRUE(ep.ok()) << ep.status();
  ASSERT_FALSE(ep->steps.empty());
  const StepRecord& first = ep->steps.front();
  for (kinematics::Side side : {kinematics::Side::kLeft, kinematics::Side::kRight}) {
    for (const std::string& joint : ArkitHandJointNames(side)) {
      ASSERT_TRUE(first.transforms.count(joint)) << joint;
      EXPECT_EQ(first.confidences.at(joint), 1.0);
    }
  }
  ASSERT_TRUE(first.transforms.count("camera"));
  retarget::EgoDexFrame frame(first.transforms.begin(), first.transforms.end());
  absl::StatusOr<retarget::HumanHands> hands = retarget::HandsFromEgoDex(frame, {});
  ASSERT_TRUE(hands.ok()) << hands.status();
  ASSERT_TRUE(hands->has(kinematics::Side::kRight));
  // The robots' human -> base rotation C takes the ARKit record back onto the simulator's axes, so a sim
  // human demo and a sim robot demo of a task move along the same world axes after retargeting.
  absl::StatusOr<kinematics::EmbodimentDescription> piper = kinematics::LoadEmbodiment(Embodiment::kPiper);
  ASSERT_TRUE(piper.ok());
  const Eigen::Matrix3d c = piper->arms[0].retarget.human_to_base;
  EXPECT_LT((c * hands->at(kinematics::Side::kRight).wrist.translation() - wrist).norm(), 1e-6);
  // ARKit's world is +y up: the wrist's ARKit y is its height above the floor.
  EXPECT_NEAR(first.transforms.at("rightHand")(1, 3), wrist.z(), 1e-9);
  // The egocentric camera sits above the table, looking down (its -z has a negative world-up part).
  const Eigen::Matrix4d cam = first.transforms.at("camera");
  EXPECT_GT(cam(1, 3), ep->table_height_m);
  EXPECT_LT(-cam(2, 2), -0.3);  // and away from the person (ARKit -z), as at the start of an ARKit session
  EXPECT_LT(-cam(1, 2), -0.3);
  ASSERT_EQ(ep->cameras.size(), 1u);
  EXPECT_EQ(ep->cameras[0].name, "ego");
  EXPECT_NEAR(ep->cameras[0].intrinsics.fy, 120.0 / std::tan(0.5 * kEgoFovyDeg * M_PI / 180.0), 1e-6);
}

TEST(RolloutTest, RendersEveryCameraEveryStep) {
  absl::StatusOr<std::unique_ptr<Renderer>> r = Renderer::Create();
  ASSERT_TRUE(r.ok()) << r.status();
  EpisodeOptions o = Options("press_bell", Embodiment::kPiper, Mode::kHard, 9);
  o.render = true;
  absl::StatusOr<Episode> ep = RunEpisode(o, r->get());
  ASSERT_TRUE(ep.ok()) << ep.status();
  ASSERT_EQ(ep->cameras.size(), 2u);  // head + wrist
  EXPECT_EQ(ep->cameras[0].name, "head");
  for (const StepRecord& s : ep->steps) {
    ASSERT_EQ(s.images.size(), 2u);
    for (const Image& img : s.images) {
      ASSERT_EQ(img.width, kImageWidth);
      ASSERT_EQ(img.height, kImageHeight);
      ASSERT_EQ(img.rgb.size(), static_cast<size_t>(kImageWidth * kImageHeight * 3));
    }
  }
  // The arm moves, so the head camera's first and last frames differ.
  EXPECT_NE(ep->steps.front().images[0].rgb, ep->steps.back().images[0].rgb);
  EXPECT_EQ(RunEpisode(o, nullptr).status().code(), absl::StatusCode::kInvalidArgument);
}

// Every rollout builds and frees its own mjModel, and the next one often lands at the same address.
// One renderer reused across hard-mode scenes must draw each as a fresh renderer does (its table
// texture included), not with the previous scene's textures.
TEST(RolloutTest, ReusedRendererDrawsEachSceneAsAFreshOneDoes) {
  auto head_image = [](uint64_t seed, Renderer* renderer) -> data::RgbImage {
    absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(Options("press_bell", Embodiment::kPiper, Mode::kHard, seed));
    EXPECT_TRUE(scene.ok()) << scene.status();
    if (!scene.ok()) return {};
    absl::StatusOr<Image> img = renderer->Render(scene->env->model(), const_cast<mjData*>(scene->env->data()), "head");
    EXPECT_TRUE(img.ok()) << img.status();
    if (!img.ok()) return {};
    return data::RgbImage{img->width, img->height, std::move(img->rgb)};
  };
  absl::StatusOr<std::unique_ptr<Renderer>> shared = Renderer::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  std::vector<data::RgbImage> reused;
  for (uint64_t seed : {1, 2, 3}) reused.push_back(head_image(seed, shared->get()));
  // Hard mode draws different tables for different seeds...
  EXPECT_GT(data::MeanAbsDiff(reused[0], reused[1]), 5.0);
  EXPECT_GT(data::MeanAbsDiff(reused[1], reused[2]), 5.0);
  // ...and each matches what a renderer that never drew anything else makes of it.
  for (uint64_t seed : {1, 2, 3}) {
    absl::StatusOr<std::unique_ptr<Renderer>> fresh = Renderer::Create();
    ASSERT_TRUE(fresh.ok()) << fresh.status();
    EXPECT_LT(data::MeanAbsDiff(reused[seed - 1], head_image(seed, fresh->get())), 0.5) << "seed " << seed;
  }
}

TEST(RolloutTest, ObjectsMoveOnlyThroughContacts) {
  for (const Task* task : AllTasks()) {
    for (Embodiment e : SupportedEmbodiments(*task)) {
      absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(Options(task->spec().name, e, Mode::kHard, 1));
      ASSERT_TRUE(scene.ok()) << scene.status();
      const mjModel* m = scene->env->model();
      // Equality constraints only weld a hand to its mocap target.
      const int hands = e == Embodiment::kHuman ? 2 : 0;
      ASSERT_EQ(m->neq, hands) << task->spec().name;
      for (int i = 0; i < m->neq; ++i) {
        const std::string b1 = mj_id2name(m, mjOBJ_BODY, m->eq_obj1id[i]);
        const std::string b2 = mj_id2name(m, mjOBJ_BODY, m->eq_obj2id[i]);
        EXPECT_TRUE(b1.find("hand") != std::string::npos && b2.find("target") != std::string::npos) << b1 << " " << b2;
      }
      // Every mocap body is a hand target; every free body that is not a hand is an object whose
      // free joint carries no actuator.
      for (int b = 1; b < m->nbody; ++b) {
        const std::string name = mj_id2name(m, mjOBJ_BODY, b);
        if (m->body_mocapid[b] >= 0) {
          EXPECT_NE(name.find("target"), std::string::npos) << name;
        }
      }
      for (int a = 0; a < m->nu; ++a) {
        const int j = m->actuator_trnid[2 * a];
        EXPECT_NE(m->jnt_type[j], mjJNT_FREE) << mj_id2name(m, mjOBJ_ACTUATOR, a);
      }
    }
  }
}

TEST(RolloutTest, BadOptionsAreClearErrors) {
  absl::StatusOr<Episode> ep = RunEpisode(Options("juggle", Embodiment::kPiper, Mode::kEasy, 0));
  EXPECT_EQ(ep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ep.status().message().find("juggle"), std::string::npos);
  ep = RunEpisode(Options("lift_pot", Embodiment::kPiper, Mode::kEasy, 0));
  EXPECT_EQ(ep.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(ep.status().message().find("PIPER"), std::string::npos);
}

TEST(TaskTest, SpecsAreComplete) {
  ASSERT_GE(AllTasks().size(), 6u);
  int two_arm = 0;
  for (const Task* t : AllTasks()) {
    const TaskSpec& s = t->spec();
    EXPECT_GE(s.subtasks.size(), 2u) << s.name;
    EXPECT_GE(s.seen_instructions.size(), 3u) << s.name;
    EXPECT_GE(s.unseen_instructions.size(), 2u) << s.name;
    for (const std::string& u : s.unseen_instructions) {
      EXPECT_EQ(std::count(s.seen_instructions.begin(), s.seen_instructions.end(), u), 0) << u;
    }
    EXPECT_GT(s.step_limit, 0);
    EXPECT_EQ(FindTask(s.name), t);
    two_arm += s.two_arm;
  }
  EXPECT_GE(two_arm, 2);
  EXPECT_EQ(FindTask("nope"), nullptr);
}

TEST(TaskTest, UnseenInstructionComesFromTheUnseenSplit) {
  EpisodeOptions o = Options("place_block_basket", Embodiment::kPiper, Mode::kEasy, 2);
  o.unseen_instruction = true;
  absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(o);
  ASSERT_TRUE(scene.ok());
  const auto& unseen = scene->task->spec().unseen_instructions;
  EXPECT_NE(std::find(unseen.begin(), unseen.end(), scene->instruction), unseen.end());
}

TEST(TaskTest, NothingIsDoneAtTheStart) {
  for (const Task* task : AllTasks()) {
    for (Embodiment e : SupportedEmbodiments(*task)) {
      absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(Options(task->spec().name, e, Mode::kEasy, 4));
      ASSERT_TRUE(scene.ok());
      const TaskProgress p = task->Check(*scene->env, scene->context);
      EXPECT_FALSE(p.success) << task->spec().name << " " << action::EmbodimentName(e);
      ASSERT_EQ(p.subtasks.size(), task->spec().subtasks.size());
      for (bool done : p.subtasks) EXPECT_FALSE(done) << task->spec().name;
    }
  }
}

// Expert takeover (DAgger-style data): the expert plans from wherever something else left the scene.
TEST(RolloutTest, ExpertTakesOverAMovedScene) {
  const EpisodeOptions o = Options("place_block_basket", Embodiment::kPiper, Mode::kEasy, 7);
  absl::StatusOr<Episode> plain = RunEpisode(o);
  ASSERT_TRUE(plain.ok()) << plain.status();
  ASSERT_TRUE(plain->success);

  absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(o);
  ASSERT_TRUE(scene.ok()) << scene.status();
  SimEnv& env = *scene->env;
  // "A policy" swings the arm aside and closes the gripper in the air for 1.2 s.
  kinematics::JointVector q = env.ArmJoints(0);
  q[0] += 0.3;
  q[1] += 0.2;
  for (int k = 0; k < 30; ++k) {
    env.SetArmTarget(0, q, kGripperSqueezeM);
    ASSERT_TRUE(env.Step().ok());
  }
  const double moved_time = env.time();
  const kinematics::JointVector moved = env.ArmJoints(0);
  ASSERT_LT(env.GripperOpening(0), 0.5 * env.rig().effectors[0].max_opening_m);

  absl::StatusOr<Episode> ep = RunExpertOnScene(*scene, o);
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_TRUE(ep->success);
  EXPECT_EQ(ep->completeness, 1.0);
  ASSERT_FALSE(ep->steps.empty());
  EXPECT_DOUBLE_EQ(ep->steps[0].time, moved_time);  // the recording starts where the takeover did
  for (int j = 0; j < moved.size(); ++j) EXPECT_DOUBLE_EQ(ep->steps[0].arms[0].joints[j], moved[j]);
  EXPECT_EQ(ep->instruction, plain->instruction);
  // The gripper opens again before the grasp: the recorded opening rises from the closed start.
  double widest = 0;
  for (const StepRecord& s : ep->steps) widest = std::max(widest, s.arms[0].gripper_m);
  EXPECT_GT(widest, 0.8 * env.rig().effectors[0].max_opening_m);

  EpisodeScene empty;
  EXPECT_EQ(RunExpertOnScene(empty, o).status().code(), absl::StatusCode::kInvalidArgument);
}

// An expert taking over mid-descent (already over the block) goes on down instead of rising back to the
// approach height, as the plain demo does from there; the labels of takeover data then agree with it.
TEST(RolloutTest, ExpertTakingOverMidDescentDoesNotRiseAgain) {
  const EpisodeOptions o = Options("place_block_basket", Embodiment::kPiper, Mode::kEasy, 7);
  absl::StatusOr<EpisodeScene> scene = MakeEpisodeScene(o);
  ASSERT_TRUE(scene.ok()) << scene.status();
  SimEnv& env = *scene->env;
  absl::StatusOr<std::unique_ptr<ExpertController>> first =
      ExpertController::Create(&env, scene->task->ExpertPlan(env, scene->context));
  ASSERT_TRUE(first.ok()) << first.status();
  // The approach takes 1.4 s (35 steps); 8 more are part of the way down.
  for (int k = 0; k < 43; ++k) ASSERT_TRUE((*first)->Step().ok());
  const double z_takeover = env.TcpWorld(0).translation().z();

  absl::StatusOr<Episode> ep = RunExpertOnScene(*scene, o);
  ASSERT_TRUE(ep.ok()) << ep.status();
  EXPECT_TRUE(ep->success);
  // Until the grasp closes (the lift comes after), the wrist never rises above where it was taken over.
  const double ee_start = ep->steps[0].arms[0].ee_world.translation().z();
  double highest_before_close = ee_start;
  for (const StepRecord& s : ep->steps) {
    if (s.arms[0].gripper_m < 0.9 * env.rig().effectors[0].max_opening_m) break;
    highest_before_close = std::max(highest_before_close, s.arms[0].ee_world.translation().z());
  }
  EXPECT_LT(highest_before_close, ee_start + 0.005) << "takeover TCP z " << z_takeover;
}

}  // namespace
}  // namespace mivla::sim
