#include "trainer/train/train_config.h"

#include "gtest/gtest.h"

namespace mivla::trainer {
namespace {

TEST(TrainConfigTest, ParsesEveryFieldAndKeepsDefaults) {
  auto c = ParseTrainConfig(R"({"name": "run", "model": "base", "seed": 3, "device": "cpu",
    "data": {"sources": [{"name": "h", "path": "/d/h", "weight": 2.5}, {"path": "/d/r"}],
             "target_embodiment": "arx5", "batch_size": 8, "cameras": ["head_camera"]},
    "loss": {"human_to_robot": false, "complement_weight": 0.5},
    "optim": {"steps": 50, "lr": 3e-4, "warmup_steps": 5},
    "encoders": {"freeze_text": true, "hf_t5": "/w/t5.safetensors"},
    "checkpoint_every": 10, "keep_last": 2})",
                            "a.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->name, "run");
  EXPECT_EQ(c->model, "base");
  EXPECT_EQ(c->seed, 3u);
  ASSERT_EQ(c->sources.size(), 2u);
  EXPECT_EQ(c->sources[0].weight, 2.5);
  EXPECT_EQ(c->sources[1].name, "source1");
  EXPECT_EQ(c->target_embodiment, "arx5");
  EXPECT_EQ(c->batch_size, 8);
  EXPECT_FALSE(c->loss_human_to_robot);
  EXPECT_TRUE(c->loss_robot);
  EXPECT_EQ(c->complement_weight, 0.5);
  EXPECT_EQ(c->steps, 50);
  EXPECT_EQ(c->lr, 3e-4);
  EXPECT_EQ(c->weight_decay, 0.01);  // default (the paper)
  EXPECT_TRUE(c->freeze_text);
  EXPECT_EQ(c->hf_t5, "/w/t5.safetensors");
  EXPECT_TRUE(ValidateTrainConfig(*c, "a.json").ok());
  // Round trip.
  auto back = ParseTrainConfig(TrainConfigToJson(*c).dump(), "b.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(TrainConfigHash(*back), TrainConfigHash(*c));
}

TEST(TrainConfigTest, ErrorsNameTheFileAndTheField) {
  auto bad_type = ParseTrainConfig(R"({"optim": {"lr": "fast"}})", "runs/a.json");
  ASSERT_FALSE(bad_type.ok());
  EXPECT_NE(bad_type.status().message().find("runs/a.json: optim.lr: expected a number"), std::string::npos)
      << bad_type.status();
  auto unknown = ParseTrainConfig(R"({"data": {"batchsize": 4}})", "b.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("b.json: data.batchsize: unknown field"), std::string::npos)
      << unknown.status();
  auto source = ParseTrainConfig(R"({"data": {"sources": [{"path": "x", "weight": true}]}})", "c.json");
  ASSERT_FALSE(source.ok());
  EXPECT_NE(source.status().message().find("c.json: data.sources[0].weight"), std::string::npos);
  EXPECT_FALSE(ParseTrainConfig("{not json", "d.json").ok());
  EXPECT_EQ(LoadTrainConfig("/nonexistent/x.json").status().code(), absl::StatusCode::kNotFound);

  TrainConfig c;
  c.batch_size = 0;
  absl::Status s = ValidateTrainConfig(c, "e.json");
  EXPECT_NE(s.message().find("e.json: data.batch_size"), std::string::npos) << s;
  c = TrainConfig();
  c.loss_robot = c.loss_human = c.loss_robot_to_human = c.loss_human_to_robot = false;
  EXPECT_FALSE(ValidateTrainConfig(c, "f.json").ok());
  c = TrainConfig();
  c.model = "huge";
  EXPECT_NE(ValidateTrainConfig(c, "g.json").message().find("g.json: model"), std::string::npos);

  auto overrides = ParseTrainConfig(R"({"model_overrides": {"dino": {"image_size": 112}}})", "h.json");
  ASSERT_TRUE(overrides.ok()) << overrides.status();
  EXPECT_EQ(overrides->model_overrides["dino"]["image_size"], 112);
  EXPECT_TRUE(ValidateTrainConfig(*overrides, "h.json").ok());
  overrides->init_checkpoint = "pre.mivla";  // a fine-tune keeps the checkpoint's config
  EXPECT_NE(ValidateTrainConfig(*overrides, "h.json").message().find("h.json: model_overrides"), std::string::npos);
  EXPECT_FALSE(ParseTrainConfig(R"({"model_overrides": 112})", "i.json").ok());
}

TEST(TrainConfigTest, HashIgnoresStepsAndOutputButNotTheTrajectory) {
  TrainConfig a;
  TrainConfig b = a;
  b.steps = a.steps * 2;
  b.output_dir = "elsewhere";
  b.log_every = 1;
  b.workers = 7;
  EXPECT_EQ(TrainConfigHash(a), TrainConfigHash(b));
  b.lr = a.lr * 2;
  EXPECT_NE(TrainConfigHash(a), TrainConfigHash(b));
  b = a;
  b.loss_human = false;
  EXPECT_NE(TrainConfigHash(a), TrainConfigHash(b));
  b = a;
  b.model_overrides = {{"dino", {{"image_size", 112}}}};
  EXPECT_NE(TrainConfigHash(a), TrainConfigHash(b));
}

TEST(TrainConfigTest, WarmupThenConstant) {
  TrainConfig c;
  c.lr = 1e-4;
  c.warmup_steps = 10;
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 0), 1e-5);
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 4), 5e-5);
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 9), 1e-4);
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 5000), 1e-4);
  c.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 0), 1e-4);
}

TEST(TrainConfigTest, CosineDecayFallsFromLrToMinLrAtTheLastStep) {
  TrainConfig c;
  c.lr = 1e-4;
  c.min_lr = 1e-5;
  c.warmup_steps = 10;
  c.steps = 110;
  c.decay = "cosine";
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 0), 1e-5);  // warm-up as before
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 9), 1e-4);
  EXPECT_NEAR(LearningRateAt(c, 59), 5.5e-5, 1e-12);  // half way: the mean of lr and min_lr
  EXPECT_LT(LearningRateAt(c, 80), LearningRateAt(c, 70));
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 109), 1e-5);
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 500), 1e-5);  // a run extended past its schedule stays at min_lr
  c.warmup_steps = 0;
  EXPECT_DOUBLE_EQ(LearningRateAt(c, 0), 1e-4);
}

TEST(TrainConfigTest, DecayIsParsedValidatedAndFingerprinted) {
  auto c = ParseTrainConfig(R"({"optim": {"decay": "cosine", "min_lr": 1e-6}})", "d.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->decay, "cosine");
  EXPECT_DOUBLE_EQ(c->min_lr, 1e-6);
  TrainConfig bad = *c;
  bad.decay = "linear";
  absl::Status s = ValidateTrainConfig(bad, "d.json");
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(std::string(s.message()).find("optim.decay"), std::string::npos) << s;
  bad = *c;
  bad.min_lr = 1.0;
  EXPECT_NE(std::string(ValidateTrainConfig(bad, "d.json").message()).find("optim.min_lr"), std::string::npos);
  // A cosine run's schedule depends on its length, so the length is part of its fingerprint; a constant
  // run's is not (it may be extended), and its fingerprint is what it was before schedules existed.
  TrainConfig longer = *c;
  longer.steps += 100;
  EXPECT_NE(TrainConfigHash(*c), TrainConfigHash(longer));
  TrainConfig constant, constant_longer;
  constant_longer.steps = constant.steps + 100;
  EXPECT_EQ(TrainConfigHash(constant), TrainConfigHash(constant_longer));
  EXPECT_EQ(TrainConfigToJson(constant)["optim"]["decay"], "constant");
}

TEST(TrainConfigTest, GraspBoostIsParsedValidatedAndFingerprintedOnlyWhenOn) {
  auto c = ParseTrainConfig(R"({"data": {"grasp_boost": {"factor": 3, "before_s": 1.2, "after_s": 0.4}}})", "g.json");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_DOUBLE_EQ(c->grasp_boost, 3);
  EXPECT_DOUBLE_EQ(c->grasp_before_s, 1.2);
  EXPECT_DOUBLE_EQ(c->grasp_after_s, 0.4);
  auto back = ParseTrainConfig(TrainConfigToJson(*c).dump(), "back.json");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_DOUBLE_EQ(back->grasp_before_s, 1.2);
  auto unknown = ParseTrainConfig(R"({"data": {"grasp_boost": {"factr": 3}}})", "u.json");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("u.json: data.grasp_boost.factr: unknown field"), std::string::npos)
      << unknown.status();
  TrainConfig bad = *c;
  bad.grasp_boost = 0;
  EXPECT_NE(std::string(ValidateTrainConfig(bad, "g.json").message()).find("data.grasp_boost.factor"),
            std::string::npos);
  bad = *c;
  bad.grasp_before_s = -1;
  EXPECT_NE(std::string(ValidateTrainConfig(bad, "g.json").message()).find("data.grasp_boost.before_s"),
            std::string::npos);
  auto per_source =
      ParseTrainConfig(R"({"data": {"sources": [{"path": "a", "grasp_boost": 1}, {"path": "b"}]}})", "s.json");
  ASSERT_TRUE(per_source.ok()) << per_source.status();
  ASSERT_TRUE(per_source->sources[0].grasp_boost.has_value());
  EXPECT_DOUBLE_EQ(*per_source->sources[0].grasp_boost, 1);
  EXPECT_FALSE(per_source->sources[1].grasp_boost.has_value());
  EXPECT_FALSE(TrainConfigToJson(*per_source)["data"]["sources"][1].contains("grasp_boost"));
  auto per_source_back = ParseTrainConfig(TrainConfigToJson(*per_source).dump(), "back.json");
  ASSERT_TRUE(per_source_back.ok()) << per_source_back.status();
  EXPECT_TRUE(per_source_back->sources[0].grasp_boost.has_value());
  bad = *per_source;
  bad.sources[0].grasp_boost = -1;
  EXPECT_NE(std::string(ValidateTrainConfig(bad, "s.json").message()).find("data.sources[0].grasp_boost"),
            std::string::npos);
  EXPECT_FALSE(ParseTrainConfig(R"({"data": {"sources": [{"path": "a", "grasp_boost": "x"}]}})", "s.json").ok());
  // On, it changes the batches and so the fingerprint; off, runs keep the fingerprints they had before
  // the option existed (these two values were computed by the code of that time).
  TrainConfig off;
  EXPECT_NE(TrainConfigHash(*c), TrainConfigHash(off));
  EXPECT_EQ(TrainConfigHash(off), "31b9101940a64c8c");
  off.decay = "cosine";
  off.steps = 4500;
  off.min_lr = 1e-5;
  EXPECT_EQ(TrainConfigHash(off), "02fe420314007f2a");
  off.grasp_before_s = 2;  // the window alone, with the boost off, changes nothing
  EXPECT_EQ(TrainConfigHash(off), "02fe420314007f2a");
}

TEST(TrainConfigTest, ExampleConfigsParse) {
  for (const char* f : {"trainer/configs/tiny_pretrain.json", "trainer/configs/tiny_finetune.json",
                        "trainer/configs/bundle_piper_tiny.json", "trainer/configs/bundle_piper_tiny_2.json",
                        "trainer/configs/two_task_piper_tiny.json", "trainer/configs/bundle_piper_tiny_3.json",
                        "trainer/configs/bundle_piper_tiny_4.json", "trainer/configs/bundle_piper_tiny_5.json"}) {
    auto c = LoadTrainConfig(f);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(ValidateTrainConfig(*c, f).ok()) << f;
  }
}

}  // namespace
}  // namespace mivla::trainer
