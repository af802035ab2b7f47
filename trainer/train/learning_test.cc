// The model learns to use each input, trained by the Trainer: three pairs of PiPER samples, each pair
// identical but for one input (the image, the instruction, or the proprioception) and with different
// target chunks. After a short overfit run the sampler reproduces every sample's own chunk, and each
// sample's prediction is closer to its own chunk than to its partner's.
#include <chrono>
#include <cstdlib>
#include <filesystem>

#include <torch/torch.h>

#include "core/model/flow_matching.h"
#include "core/util/log.h"
#include "gtest/gtest.h"
#include "trainer/train/test_batches.h"
#include "trainer/train/trainer.h"

namespace mivla::trainer {
namespace {
namespace fs = std::filesystem;
using action::Embodiment;

TEST(LearningTest, ReproducesPairsThatDifferOnlyInImageInstructionOrProprioception) {
  SetLogQuiet(true);
  model::ModelConfig cfg = model::TinyConfig();
  cfg.freeze_vision = true;  // random but fixed features; projections, prefix MLPs and decoder train
  cfg.freeze_text = true;
  TrainBatch b = testing::SyntheticBatch(cfg, std::vector<Embodiment>(6, Embodiment::kPiper), 3);
  model::ModelInputs& in = b.inputs;
  auto copy_row = [](torch::Tensor& t, int64_t from, int64_t to) { t[to].copy_(t[from]); };
  // Pair (0, 1): only the image differs.
  for (torch::Tensor* t : {&in.view_mask, &in.text_ids, &in.text_mask, &in.state, &in.state_mask}) copy_row(*t, 0, 1);
  // Pair (2, 3): only the instruction differs.
  for (torch::Tensor* t : {&in.images, &in.view_mask, &in.state, &in.state_mask}) copy_row(*t, 2, 3);
  // Pair (4, 5): only the proprioception differs.
  for (torch::Tensor* t : {&in.images, &in.view_mask, &in.text_ids, &in.text_mask}) copy_row(*t, 4, 5);
  ASSERT_FALSE(torch::equal(in.images[0], in.images[1]));
  ASSERT_FALSE(torch::equal(in.text_ids[2], in.text_ids[3]));
  ASSERT_FALSE(torch::equal(in.state[4], in.state[5]));
  // Own slots only (a robot sample's complement is another concern); one camera view (speed).
  b.targets.complement_mask.zero_();
  in.view_mask.slice(1, 1).fill_(false);

  testing::FixedBatchSource source({testing::RepeatBatch(b, 2)});
  TrainerOptions o;
  o.config.name = "learn";
  o.config.output_dir = (fs::path(::testing::TempDir()) / "learning_test").string();
  o.config.device = "cpu";
  o.config.steps = std::getenv("MIVLA_LEARNING_STEPS") ? std::atoi(std::getenv("MIVLA_LEARNING_STEPS")) : 300;
  o.config.lr = 2e-3;
  o.config.warmup_steps = 20;
  o.config.weight_decay = 0.0;
  o.config.checkpoint_every = 100000;
  o.config.log_every = 50;
  o.config.freeze_vision = o.config.freeze_text = true;
  torch::manual_seed(0);
  o.model = model::MivlaModel(cfg);
  o.data = &source;
  o.progress = false;
  auto trainer = Trainer::Create(std::move(o));
  ASSERT_TRUE(trainer.ok()) << trainer.status();
  model::MivlaModel m = (*trainer)->model();
  const int64_t h = cfg.decoder.action_horizon;
  torch::Tensor mask = b.targets.label_mask.unsqueeze(1).expand({6, h, action::kActionDim});
  torch::Tensor pred;
  auto predict = [&] {
    torch::NoGradGuard no_grad;
    pred = model::EulerSample(*m, m->PrepareDecoding(m->Encode(in)), model::SampleNoise(6, h, action::kActionDim, 5),
                              cfg.decoder.sampling_steps);
  };
  // Mean absolute error over the sample's valid values, against sample `target`'s chunk.
  auto err = [&](int64_t i, int64_t target) {
    return ((pred[i] - b.targets.actions[target]).abs() * mask[i]).sum().item<double>() / mask[i].sum().item<double>();
  };
  const auto start = std::chrono::steady_clock::now();
  const bool verbose = std::getenv("MIVLA_TEST_VERBOSE") != nullptr;
  while ((*trainer)->step() < (*trainer)->config().steps) {
    auto r = (*trainer)->Step();
    ASSERT_TRUE(r.ok()) << r.status();
    if (verbose && r->step % 50 == 0) {
      predict();
      std::printf("step %lld loss %.4f errors", static_cast<long long>(r->step), r->loss);
      for (int64_t i = 0; i < 6; ++i) std::printf(" %.3f/%.3f", err(i, i), err(i, i ^ 1));
      std::printf("\n");
      std::fflush(stdout);
    }
  }
  std::printf("learning: %lld steps in %.1f s\n", static_cast<long long>((*trainer)->step()),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  m->eval();
  predict();
  const char* what[] = {"image", "instruction", "proprioception"};
  for (int pair = 0; pair < 3; ++pair) {
    for (int k = 0; k < 2; ++k) {
      const int64_t i = 2 * pair + k, partner = 2 * pair + (1 - k);
      const double own = err(i, i), other = err(i, partner);
      std::printf("  pair differing in %s, sample %lld: mean error %.3f to its own chunk, %.3f to its partner's\n",
                  what[pair], static_cast<long long>(i), own, other);
      EXPECT_LT(own, 0.1) << what[pair] << " sample " << i;
      EXPECT_LT(own * 3, other) << what[pair] << " sample " << i;
    }
  }
}

}  // namespace
}  // namespace mivla::trainer
