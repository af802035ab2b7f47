#include "trainer/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/cuda.h>
#include <torch/torch.h>

#include <array>
#include <chrono>
#include <filesystem>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "core/checkpoint/model_checkpoint.h"
#include "core/model/flow_matching.h"
#include "core/model/torch_status.h"
#include "core/util/log.h"
#include "core/util/split_mix64.h"
#include "core/util/status_macros.h"
#include "trainer/train/train_state.h"

namespace mivla::trainer {
namespace fs = std::filesystem;
namespace {

model::ModelInputs InputsTo(const model::ModelInputs& in, const c10::Device& d) {
  return {in.images.to(d), in.view_mask.to(d), in.text_ids.to(d), in.text_mask.to(d),
          in.state.to(d), in.state_mask.to(d), in.embodiment.to(d)};
}

model::FlowTargets TargetsTo(const model::FlowTargets& t, const c10::Device& d) {
  model::FlowTargets out;
  out.actions = t.actions.to(d);
  out.label_mask = t.label_mask.to(d);
  out.complement_mask = t.complement_mask.to(d);
  out.step_mask = t.step_mask.defined() ? t.step_mask.to(d) : t.step_mask;
  out.embodiment = t.embodiment.to(d);
  return out;
}

double Seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

std::pair<torch::Tensor, torch::Tensor> StepNoise(uint64_t seed, int64_t step, int64_t global_batch,
                                                  int64_t begin, int64_t n, int64_t horizon, double max_time) {
  at::Generator gen = at::detail::createCPUGenerator(SplitMix64(seed ^ SplitMix64(static_cast<uint64_t>(step))));
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32);
  torch::Tensor t = at::rand({global_batch}, gen, f32) * max_time;
  torch::Tensor noise = at::randn({global_batch, horizon, action::kActionDim}, gen, f32);
  return {t.slice(0, begin, begin + n), noise.slice(0, begin, begin + n)};
}

Trainer::Trainer(TrainerOptions options) : options_(std::move(options)), model_(options_.model) {}

absl::StatusOr<std::unique_ptr<Trainer>> Trainer::Create(TrainerOptions options) {
  if (options.data == nullptr) return absl::InvalidArgumentError("Trainer: no batch source");
  if (options.model.is_empty()) return absl::InvalidArgumentError("Trainer: no model");
  RETURN_IF_ERROR(ValidateTrainConfig(options.config, "training config"));
  std::unique_ptr<Trainer> t(new Trainer(std::move(options)));
  const TrainConfig& c = t->options_.config;
  const absl::Status configured = model::CatchTorchErrors("Trainer", [&]() -> absl::Status {
    t->model_->SetFrozen(c.freeze_vision, c.freeze_text);
    t->model_->to(t->options_.runtime.device);
    t->model_->train();
    if (t->options_.dist != nullptr) {
      std::vector<torch::Tensor> all = t->model_->parameters();
      for (const auto& b : t->model_->buffers()) all.push_back(b);
      RETURN_IF_ERROR(t->options_.dist->Broadcast(all));
    }
    for (const auto& p : t->model_->parameters()) {
      if (p.requires_grad()) t->trainable_.push_back(p);
    }
    if (t->trainable_.empty()) return absl::InvalidArgumentError("Trainer: every parameter is frozen");
    t->optimizer_ = std::make_unique<torch::optim::AdamW>(
        t->trainable_,
        torch::optim::AdamWOptions(c.lr).betas({c.beta1, c.beta2}).weight_decay(c.weight_decay).eps(c.eps));
    return absl::OkStatus();
  });
  if (!configured.ok()) return configured;
  if (t->options_.dist == nullptr || t->options_.dist->is_main()) {
    std::error_code ec;
    fs::create_directories(c.output_dir, ec);
    if (ec) return absl::InternalError(absl::StrCat(c.output_dir, ": cannot create: ", ec.message()));
  }
  return t;
}

absl::Status Trainer::Resume() {
  const TrainConfig& c = options_.config;
  Distributed* dist = options_.dist != nullptr && options_.dist->world_size() > 1 ? options_.dist : nullptr;
  // Rank 0 decides the step (only rank 0 writes states); every rank loads that state from the shared
  // model directory, or every rank fails (no rank silently starts at step 0 while the others resume).
  std::vector<int64_t> steps = ListCheckpointSteps(c.output_dir, c.name);
  std::vector<double> chosen = {steps.empty() ? -1.0 : static_cast<double>(steps.back())};
  if (dist != nullptr) RETURN_IF_ERROR(dist->BroadcastValues(&chosen));
  if (chosen[0] < 0) {
    return absl::NotFoundError(absl::StrCat(c.output_dir, ": no training state of run '", c.name, "' to resume"));
  }
  const std::string path = CheckpointStem(c.output_dir, c.name, static_cast<int64_t>(chosen[0])) + ".state";
  absl::Status loaded = ResumeFrom(path);
  if (dist == nullptr) return loaded;
  if (!loaded.ok() && !fs::exists(path)) {
    loaded = absl::FailedPreconditionError(absl::StrCat(
        "rank ", dist->rank(), ": ", path, " (rank 0 resumes from it) is missing here: under data parallel the ",
        "model directory must be shared by every rank"));
  }
  std::vector<double> failed = {loaded.ok() ? 0.0 : 1.0};
  RETURN_IF_ERROR(dist->SumValues(&failed));
  if (!loaded.ok()) return loaded;
  if (failed[0] > 0) {
    return absl::FailedPreconditionError(absl::StrCat("resume from ", path, " failed on ",
                                                      static_cast<int>(failed[0]), " other rank(s); see their log"));
  }
  // Every rank loaded the same file; re-broadcast anyway so the ranks cannot drift apart.
  std::vector<torch::Tensor> all = model_->parameters();
  for (const auto& b : model_->buffers()) all.push_back(b);
  return dist->Broadcast(all);
}

absl::Status Trainer::ResumeFrom(const std::string& state_path) {
  const TrainConfig& c = options_.config;
  ASSIGN_OR_RETURN(TrainStateInfo info, LoadTrainState(state_path, *model_, *optimizer_, options_.runtime.device));
  if (info.config_hash != TrainConfigHash(c) || info.seed != c.seed) {
    return absl::FailedPreconditionError(absl::StrCat(
        state_path, ": written under another configuration (hash ", info.config_hash, ", seed ", info.seed,
        "; now ", TrainConfigHash(c), ", seed ", c.seed, "): only steps, output and logging may change"));
  }
  const int64_t world = options_.dist != nullptr ? options_.dist->world_size() : 1;
  if (info.world_size != 0 && info.world_size != world) {
    return absl::FailedPreconditionError(absl::StrCat(
        state_path, ": written by ", info.world_size, " rank(s), now ", world,
        ": the global batch and so the data order would differ"));
  }
  if (!info.data_fingerprint.empty() && !options_.data_fingerprint.empty() &&
      info.data_fingerprint != options_.data_fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(
        state_path, ": written on other data (fingerprint ", info.data_fingerprint, ", now ",
        options_.data_fingerprint, "): the sources' files or sizes changed"));
  }
  if (!info.init_fingerprint.empty() && !options_.init_fingerprint.empty() &&
      info.init_fingerprint != options_.init_fingerprint) {
    return absl::FailedPreconditionError(absl::StrCat(state_path, ": fine-tuned from another file at init_checkpoint ",
                                                      c.init_checkpoint, " (fingerprint ", info.init_fingerprint,
                                                      ", now ", options_.init_fingerprint,
                                                      "): the checkpoint was replaced, so start this run afresh"));
  }
  model_->to(options_.runtime.device);
  RETURN_IF_ERROR(options_.data->SeekTo(info.next_batch_index));
  step_ = info.step;
  LogInfo("train", absl::StrCat("resumed from ", state_path, " at step ", step_));
  return absl::OkStatus();
}

absl::StatusOr<StepRecord> Trainer::Step() {
  using Clock = std::chrono::steady_clock;
  const TrainConfig& c = options_.config;
  const c10::Device device = options_.runtime.device;
  auto sync = [&] {
    if (device.is_cuda()) torch::cuda::synchronize();
  };
  StepRecord r;
  const auto t0 = Clock::now();
  ASSIGN_OR_RETURN(TrainBatch batch, options_.data->Next());
  const int64_t b = batch.targets.actions.size(0);
  const int64_t horizon = batch.targets.actions.size(1);
  const int rank = options_.dist ? options_.dist->rank() : 0;
  const int world = options_.dist ? options_.dist->world_size() : 1;
  const std::string where = absl::StrCat("training step ", step_ + 1);
  const absl::Status stepped = model::CatchTorchErrors(where, [&]() -> absl::Status {
    model::ModelInputs inputs = InputsTo(batch.inputs, device);
    model::FlowTargets targets = TargetsTo(batch.targets, device);
    model::FlowLossOptions lo;
    lo.robot_term = c.loss_robot;
    lo.robot_to_human_term = c.loss_robot_to_human;
    lo.human_term = c.loss_human;
    lo.human_to_robot_term = c.loss_human_to_robot;
    lo.complement_weight = c.complement_weight;
    auto [t, noise] = StepNoise(c.seed, step_, b * world, b * rank, b, horizon, lo.max_time);
    sync();
    const auto t1 = Clock::now();
    model::FlowLoss loss;
    {
      model::AutocastGuard autocast(options_.runtime);
      model::DecoderContext ctx = model_->PrepareDecoding(model_->Encode(inputs));
      loss = model::FlowMatchingLoss(*model_, ctx, targets, lo, noise.to(device), t.to(device));
    }
    // Data parallel: each rank's terms are means over ITS samples that have them; rescale so the
    // ranks' mean gradient (and the ranks' mean logged terms) is the global per-term mean, as one
    // process would compute on the whole global batch: term_r * n_r * world / N (N = sum of n_r).
    std::array<double, 4> scale = {1, 1, 1, 1};
    if (world > 1) {
      const std::array<int64_t, 4> local = {loss.robot_samples, loss.robot_to_human_samples, loss.human_samples,
                                            loss.human_to_robot_samples};
      std::vector<double> global(local.begin(), local.end());
      RETURN_IF_ERROR(options_.dist->SumValues(&global));
      torch::Tensor total = torch::zeros({}, loss.total.options());
      for (size_t i = 0; i < 4; ++i) {
        scale[i] = global[i] > 0 ? static_cast<double>(local[i]) * world / global[i] : 0.0;
        total = total + loss.weighted[i] * scale[i];
      }
      loss.total = total;
    }
    sync();
    const auto t2 = Clock::now();
    optimizer_->zero_grad();
    loss.total.backward();
    sync();
    const auto t3 = Clock::now();
    for (auto& p : trainable_) {
      if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    }
    if (options_.dist != nullptr) RETURN_IF_ERROR(options_.dist->AverageGradients(trainable_));
    r.grad_norm = torch::nn::utils::clip_grad_norm_(
        trainable_, c.grad_clip > 0 ? c.grad_clip : std::numeric_limits<double>::infinity());
    r.lr = LearningRateAt(c, step_);
    for (auto& group : optimizer_->param_groups()) {
      static_cast<torch::optim::AdamWOptions&>(group.options()).lr(r.lr);
    }
    optimizer_->step();
    sync();
    const auto t4 = Clock::now();
    r.loss = loss.total.detach().item<double>();
    r.robot = loss.robot.defined() ? loss.robot.item<double>() * scale[0] : 0;
    r.robot_to_human = loss.robot_to_human.defined() ? loss.robot_to_human.item<double>() * scale[1] : 0;
    r.human = loss.human.defined() ? loss.human.item<double>() * scale[2] : 0;
    r.human_to_robot = loss.human_to_robot.defined() ? loss.human_to_robot.item<double>() * scale[3] : 0;
    r.data_s = Seconds(t0, t1);
    r.forward_s = Seconds(t1, t2);
    r.backward_s = Seconds(t2, t3);
    r.optimizer_s = Seconds(t3, t4);
    r.samples_per_s = static_cast<double>(b * world) / std::max(Seconds(t0, t4), 1e-9);
    return absl::OkStatus();
  });
  if (!stepped.ok()) return stepped;
  last_samples_ = b * world;
  r.step = ++step_;
  return r;
}

absl::StatusOr<std::string> Trainer::SaveCheckpoint() {
  const TrainConfig& c = options_.config;
  if (options_.dist != nullptr && !options_.dist->is_main()) return std::string();
  const std::string stem = CheckpointStem(c.output_dir, c.name, step_);
  TrainStateInfo info{step_,
                      options_.data->next_index(),
                      c.seed,
                      TrainConfigHash(c),
                      options_.dist != nullptr ? options_.dist->world_size() : 1,
                      options_.data_fingerprint,
                      options_.init_fingerprint};
  RETURN_IF_ERROR(SaveTrainState(stem + ".state", info, *model_, *optimizer_));
  checkpoint::PolicyBundle bundle;
  bundle.model_version = fs::path(stem).filename().string();
  bundle.config = model_->config();
  bundle.normalization = options_.normalization;
  bundle.tokenizer_model = options_.tokenizer_model;
  bundle.metadata = options_.metadata;
  bundle.metadata["step"] = absl::StrCat(step_);
  bundle.metadata["train_config"] = TrainConfigToJson(c).dump();
  bundle.metadata["created_at"] = absl::FormatTime(absl::Now(), absl::UTCTimeZone());
  bundle.model = model_;
  RETURN_IF_ERROR(checkpoint::SaveModelCheckpoint(stem + ".mivla", bundle));
  RETURN_IF_ERROR(PruneCheckpoints(c.output_dir, c.name, c.keep_last));
  return stem + ".mivla";
}

absl::StatusOr<TrainSummary> Trainer::Run() {
  const TrainConfig& c = options_.config;
  const bool main = options_.dist == nullptr || options_.dist->is_main();
  TrainLog log({main ? c.output_dir : "", step_, c.steps, main && options_.progress, options_.log_out, options_.tty});
  TrainSummary s;
  s.first_step = step_;
  run_start_step_ = step_;
  const auto start = std::chrono::steady_clock::now();
  std::vector<double> losses;
  int64_t samples = 0;
  Distributed* dist = options_.dist != nullptr && options_.dist->world_size() > 1 ? options_.dist : nullptr;
  while (step_ < c.steps) {
    // A stop request (SIGTERM) reaches one rank; the ranks agree at every step boundary (a one-value
    // allreduce) so all of them stop after the same step and none waits in a collective forever.
    std::vector<double> stop = {stop_.load() ? 1.0 : 0.0};
    if (dist != nullptr) RETURN_IF_ERROR(dist->SumValues(&stop));
    if (stop[0] > 0) {
      s.stopped = true;
      break;
    }
    ASSIGN_OR_RETURN(StepRecord r, Step());
    samples += last_samples_;
    s.data_s += r.data_s, s.forward_s += r.forward_s, s.backward_s += r.backward_s, s.optimizer_s += r.optimizer_s;
    if (r.step % c.log_every == 0 || r.step == c.steps) {
      if (options_.dist != nullptr) {
        std::vector<double> v = {r.loss, r.robot, r.robot_to_human, r.human, r.human_to_robot};
        RETURN_IF_ERROR(options_.dist->AverageValues(&v));
        r.loss = v[0], r.robot = v[1], r.robot_to_human = v[2], r.human = v[3], r.human_to_robot = v[4];
      }
      losses.push_back(r.loss);
      if (main) RETURN_IF_ERROR(log.Record(r));
    } else if (main) {
      log.Tick(r);
    }
    if (r.step % c.checkpoint_every == 0 || r.step == c.steps) {
      ASSIGN_OR_RETURN(std::string path, SaveCheckpoint());
      if (main) {
        s.checkpoints.push_back(path);
        RETURN_IF_ERROR(log.WriteCurve());
      }
    }
  }
  if (s.stopped && main && step_ > run_start_step_) {
    ASSIGN_OR_RETURN(std::string path, SaveCheckpoint());
    s.checkpoints.push_back(path);
    RETURN_IF_ERROR(log.WriteCurve());
  }
  log.Finish();
  s.last_step = step_;
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const int64_t n = step_ - s.first_step;
  if (n > 0) {
    s.samples_per_s = samples / s.seconds;
    s.data_s /= n, s.forward_s /= n, s.backward_s /= n, s.optimizer_s /= n;
  }
  // Means over the first and last k logged losses (k <= 10, at most half of them, at least 1).
  const size_t k = std::max<size_t>(1, std::min<size_t>(10, losses.size() / 2));
  if (losses.empty()) return s;
  for (size_t i = 0; i < k; ++i) {
    s.first_loss += losses[i] / k;
    s.last_loss += losses[losses.size() - 1 - i] / k;
  }
  return s;
}

}  // namespace mivla::trainer
