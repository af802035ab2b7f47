// File: train_serve_parity_test.cc
// Train/serve parity (issue 15): a training sample and the same observation sent the way the robot client
// sends it give the model identical condition tokens. A PiPER episode is made by mivla-datagen's library;
// mivla-train's data path (MakeLoaderOptions + DataLoader, augmentation off, in-memory frames kept raw so
// no JPEG round trip hides a difference) builds a batch; for each sample the test builds the ObserveRequest
// of the file's frame (both cameras as RAW RGB 320x240 in the session's order, joints, gripper and the
// end-effector pose, the phrasing the collator drew) and runs it through the server's input path
// (DecodeForModel's resize, StateFromProprioception) into TorchPolicyRuntime::Encode. Vision, state prefix
// and text tokens must equal the model's own Encode of the training batch. A swapped camera order and
// another frame must give different vision tokens (so the check can fail).
#include <cstdio>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "core/checkpoint/model_checkpoint.h"
#include "core/data/episode_loader.h"
#include "core/model/model_config.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"
#include "proto/request_builder.h"
#include "server/inference/encode_stage.h"
#include "server/inference/observation_input.h"
#include "server/runtime/torch_condition.h"
#include "server/runtime/torch_policy_runtime.h"
#include "trainer/datagen/generator.h"
#include "trainer/train/data_loader.h"
#include "trainer/train/data_setup.h"
#include "trainer/train/train_config.h"

namespace mivla {
namespace {

namespace fs = std::filesystem;
constexpr char kCameras[2][16] = {"head_camera", "right_camera"};

// The request the robot client sends for frame `f` of `ep` (cameras in `order`).
mivla::v1::ObserveRequest RequestFor(const data::UnifiedEpisode& ep, int f, const std::vector<std::string>& order) {
  mivla::v1::ObserveRequest req;
  req.set_timestamp_us(1000000);
  for (const std::string& name : order) {
    for (const data::CameraStream& c : ep.cameras) {
      if (c.name != name) continue;
      const data::RgbImage& im = c.frames[f];
      request::AddRawImage(c.name, im.width, im.height, im.rgb.data(), 1000000, &req);
    }
  }
  const auto& s = ep.states[f];
  const action::Slice js = action::kJointsRight, es = action::kEndEffectorRight;
  request::NativeArm arm;
  for (int j = 0; j < 6; ++j) arm.joints[j] = s[js.begin + action::kArmJoints + j];
  arm.gripper = s[js.begin + action::kArmGripper];
  arm.has_pose = true;
  arm.ee.translation() = Eigen::Vector3d(s[es.begin], s[es.begin + 1], s[es.begin + 2]);
  arm.ee.linear() =
      Eigen::Quaterniond(s[es.begin + 3], s[es.begin + 4], s[es.begin + 5], s[es.begin + 6]).normalized().toRotationMatrix();
  request::SetArmStates({arm}, req.mutable_proprioception());
  return req;
}

double MaxDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

TEST(TrainServeParityTest, TrainingSampleAndServedObservationGiveTheModelIdenticalTokens) {
  const fs::path dir = fs::path(::testing::TempDir()) / "mivla_train_serve_parity";
  fs::remove_all(dir);
  datagen::GenerateOptions g;
  g.task = "press_bell";
  g.embodiment = action::Embodiment::kPiper;
  g.episodes = 1;
  g.seed = 21;
  g.out_dir = dir.string();
  g.progress = false;
  absl::StatusOr<datagen::RunSummary> made = datagen::RunDatagen(g);
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(made->written, 1);

  // mivla-train's data path.
  trainer::TrainConfig tc;
  tc.sources = {{"piper", dir.string(), 1.0, "piper"}};
  tc.cameras = {kCameras[0], kCameras[1]};
  tc.augment = nlohmann::json{{"enabled", false}};
  tc.tokenizer = std::string(MIVLA_SOURCE_DIR) + "/" + tokenizer::kTinyTokenizerModelPath;
  tc.output_dir = (dir / "run").string();
  tc.workers = 0;
  const model::ModelConfig mc = model::TinyConfig();
  absl::StatusOr<trainer::LoaderOptions> lo = trainer::MakeLoaderOptions(tc, mc, 0, 1, nullptr);
  ASSERT_TRUE(lo.ok()) << lo.status();
  lo->frame_jpeg_quality = 0;  // raw in-memory frames: the images must then match bit for bit
  lo->batch_size = 6;
  absl::StatusOr<std::unique_ptr<trainer::DataLoader>> loader = trainer::DataLoader::Create(*lo);
  ASSERT_TRUE(loader.ok()) << loader.status();
  absl::StatusOr<trainer::TrainBatch> batch = (*loader)->MakeBatch(0);
  ASSERT_TRUE(batch.ok()) << batch.status();

  // The server's runtime over a random tiny model with the loader's statistics; the test encodes the
  // training batch with the same model object.
  torch::manual_seed(5);
  checkpoint::PolicyBundle bundle;
  bundle.model_version = "parity";
  bundle.config = mc;
  bundle.normalization = (*loader)->normalization();
  std::ifstream tok_in(tc.tokenizer, std::ios::binary);
  bundle.tokenizer_model.assign(std::istreambuf_iterator<char>(tok_in), {});
  bundle.model = model::MivlaModel(mc);
  bundle.model->eval();
  model::MivlaModel m = bundle.model;
  absl::StatusOr<std::unique_ptr<tokenizer::Tokenizer>> tok = tokenizer::Tokenizer::FromSerializedModel(bundle.tokenizer_model);
  ASSERT_TRUE(tok.ok()) << tok.status();
  absl::StatusOr<std::unique_ptr<server::TorchPolicyRuntime>> runtime =
      server::TorchPolicyRuntime::Create(std::move(bundle), {});
  ASSERT_TRUE(runtime.ok()) << runtime.status();
  const int side = std::max(mc.dino.image_size, mc.siglip.image_size);

  torch::NoGradGuard no_grad;
  const model::ModelInputs& in = batch->inputs;
  const model::ConditionTokens train = m->Encode(in);
  data::LoadOptions load;
  load.robotwin_default_embodiment = action::Embodiment::kPiper;
  absl::StatusOr<data::UnifiedEpisode> ep = data::LoadUnifiedEpisode(batch->episodes[0], load);
  ASSERT_TRUE(ep.ok()) << ep.status();
  const std::vector<std::string> order = {kCameras[0], kCameras[1]};
  auto serve = [&](int f, const std::vector<std::string>& cams, const std::string& instruction) {
    const mivla::v1::ObserveRequest req = RequestFor(*ep, f, cams);
    server::RuntimeObservation obs;
    obs.embodiment = action::Embodiment::kPiper;
    obs.instruction = instruction;
    EXPECT_TRUE(server::DecodeForModel(req, side, /*pass_jpeg=*/false, server::InputLimits{}, &obs.images).ok());
    const server::RawState raw = server::StateFromProprioception(req.proprioception(), obs.embodiment);
    obs.state = raw.values;
    obs.state_mask = raw.mask;
    const server::RuntimeObservation* one[] = {&obs};
    std::vector<absl::StatusOr<server::ConditionPtr>> c = (*runtime)->Encode(one);
    EXPECT_TRUE(c[0].ok()) << c[0].status();
    return dynamic_cast<const server::TorchCondition&>(**c[0]).tokens();
  };
  for (int64_t i = 0; i < in.images.size(0); ++i) {
    ASSERT_EQ(batch->episodes[i], batch->episodes[0]);  // one episode in the dataset
    const int f = batch->frames[i];
    SCOPED_TRACE(testing::Message() << "sample " << i << ", file frame " << f);
    // The phrasing the collator drew: the one whose ids are the sample's.
    std::string phrasing;
    for (const std::string& p : ep->instructions) {
      const std::vector<int64_t> ids = (*tok)->Encode(p, mc.text.max_tokens);
      const at::Tensor t = torch::tensor(ids, torch::kLong);
      if (torch::equal(in.text_ids[i].narrow(0, 0, static_cast<int64_t>(ids.size())), t)) phrasing = p;
    }
    ASSERT_FALSE(phrasing.empty());
    const model::ConditionTokens served = serve(f, order, phrasing);
    EXPECT_LT(MaxDiff(served.vision[0], train.vision[i]), 1e-4) << "vision tokens";
    EXPECT_TRUE(torch::equal(served.vision_mask[0], train.vision_mask[i])) << "vision mask";
    EXPECT_LT(MaxDiff(served.prefix[0], train.prefix[i]), 1e-4) << "state tokens";
    const at::Tensor text_train = m->EncodeText(in.text_ids.narrow(0, i, 1), in.text_mask.narrow(0, i, 1));
    EXPECT_LT(MaxDiff(served.text, text_train), 1e-4) << "text tokens";
    // The check can fail: swapped cameras and another frame are seen as different.
    if (i == 0) {
      EXPECT_GT(MaxDiff(serve(f, {kCameras[1], kCameras[0]}, phrasing).vision[0], train.vision[i]), 1e-2);
      const int other = f + 10 < ep->num_frames() ? f + 10 : f - 10;
      EXPECT_GT(MaxDiff(serve(other, order, phrasing).vision[0], train.vision[i]), 1e-2);
    }
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace mivla
