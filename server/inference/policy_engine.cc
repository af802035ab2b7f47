#include "server/inference/policy_engine.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <utility>
#include <vector>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "core/util/log.h"
#include "server/inference/act_deadline.h"
#include "server/inference/chunk_builder.h"
#include "server/inference/decode_stage.h"
#include "server/inference/encode_stage.h"
#include "server/inference/observation_input.h"
#include "server/inference/realtime_prefix.h"

namespace mivla::server {
namespace {

int64_t Us(absl::Duration d) { return absl::ToInt64Microseconds(d); }

uint64_t ResolveSeed(uint64_t seed) {
  if (seed != 0) return seed;
  thread_local absl::BitGen gen;
  uint64_t s = 0;
  while (s == 0) s = absl::Uniform<uint64_t>(gen);
  return s;
}

// Splits a batch into runs that share a runtime (pointer identity), keeping FIFO order inside each.
template <typename Task>
std::vector<std::pair<const PolicyRuntime*, std::vector<Task*>>> GroupByRuntime(
    const std::vector<std::unique_ptr<Task>>& batch) {
  std::vector<std::pair<const PolicyRuntime*, std::vector<Task*>>> groups;
  for (const auto& t : batch) {
    auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == t->runtime.get(); });
    if (it == groups.end()) {
      groups.push_back({t->runtime.get(), {}});
      it = groups.end() - 1;
    }
    it->second.push_back(t.get());
  }
  return groups;
}

}  // namespace

absl::StatusOr<std::unique_ptr<PolicyEngine>> PolicyEngine::Create(Options options, const ModelManager* models) {
  if (models == nullptr) return absl::InvalidArgumentError("policy engine: a model manager is required");
  options.encode.name = "encode";
  options.decode.name = "decode";
  std::unique_ptr<PolicyEngine> e(new PolicyEngine(std::move(options), models));
  PolicyEngine* self = e.get();
  ImageDecodePool::Options po;
  po.threads = e->options_.image_decode_threads;
  po.max_pending = e->options_.image_decode_max_pending;
  auto pool = ImageDecodePool::Create(po);
  if (!pool.ok()) return pool.status();
  e->decode_pool_ = *std::move(pool);
  auto enc = BatchQueue<EncodeTask>::Create(
      e->options_.encode, [self](std::vector<std::unique_ptr<EncodeTask>> b) { self->ProcessEncode(std::move(b)); },
      [](std::unique_ptr<EncodeTask> t, absl::Status why) { t->done(why); });
  if (!enc.ok()) return enc.status();
  auto dec = BatchQueue<DecodeTask>::Create(
      e->options_.decode, [self](std::vector<std::unique_ptr<DecodeTask>> b) { self->ProcessDecode(std::move(b)); },
      [self](std::unique_ptr<DecodeTask> t, absl::Status why) {
        if (why.code() == absl::StatusCode::kDeadlineExceeded) {
          const absl::Time now = absl::Now();
          self->RecordIfLate(*t, now);
          if (t->run_out <= now) {
            why = absl::DeadlineExceededError(
                absl::StrCat("act: the robot ran out of actions ", absl::FormatDuration(now - t->run_out),
                             " ago (deadline_us, or the end of its last chunk) while the request waited ",
                             absl::FormatDuration(now - t->enqueued), " in the decode queue; observe and act again"));
          }
        }
        t->done(why);
      });
  if (!dec.ok()) return dec.status();
  e->encode_ = std::move(*enc);
  e->decode_ = std::move(*dec);
  return e;
}

PolicyEngine::~PolicyEngine() { Shutdown(absl::ZeroDuration()); }

void PolicyEngine::Shutdown(absl::Duration drain) {
  accepting_.store(false);
  const absl::Time end = absl::Now() + drain;
  if (decode_pool_) decode_pool_->Shutdown();  // its last jobs still reach the encode queue
  if (encode_) encode_->Shutdown(std::max(absl::ZeroDuration(), end - absl::Now()));
  if (decode_) decode_->Shutdown(std::max(absl::ZeroDuration(), end - absl::Now()));
}

size_t PolicyEngine::encode_depth() const { return encode_ ? encode_->depth() : 0; }
size_t PolicyEngine::decode_depth() const { return decode_ ? decode_->depth() : 0; }

void PolicyEngine::Observe(std::shared_ptr<Session> session, const mivla::v1::ObserveRequest* request,
                           mivla::v1::ObserveResponse* response, absl::Time deadline, DoneFn done) {
  const absl::Time arrival = absl::Now();
  if (!accepting_.load()) return done(absl::UnavailableError("server is shutting down"));
  if (absl::Status s = ValidateObservation(*request, session->spec(), options_.limits, options_.ranges.get());
      !s.ok()) {
    return done(s);
  }
  auto task = std::make_unique<EncodeTask>();
  task->runtime = session->runtime();  // sticky in canary mode (success-gated rollout)
  if (!task->runtime) task->runtime = models_->current();
  if (!task->runtime) return done(absl::UnavailableError("no model version is loaded yet"));
  // The observation's own instruction, else the session's; the session takes a new one only with the
  // observation that carried it (stored below, after encoding), so a refused Observe changes nothing and
  // concurrent ones on a session cannot swap instructions.
  task->instruction = request->instruction().empty() ? session->instruction() : request->instruction();
  task->observation_id = session->NextObservationId();
  task->deadline_ = deadline;
  task->arrival = arrival;
  task->enqueued = absl::Now();
  task->session = std::move(session);
  task->request = request;
  task->response = response;
  task->done = std::move(done);
  // Decoded on the pool (a view per part), then queued for encoding by the thread that decoded the last view.
  DecodeImagesThen(std::move(task), decode_pool_.get(), options_.limits, [this](std::unique_ptr<EncodeTask> t) {
    if (absl::Status s = encode_->Schedule(t); !s.ok()) t->done(s);
  });
}

void PolicyEngine::Act(std::shared_ptr<Session> session, const mivla::v1::ActRequest* request,
                       mivla::v1::ActResponse* response, absl::Time deadline, DoneFn done) {
  const absl::Time arrival = absl::Now();
  if (!accepting_.load()) return done(absl::UnavailableError("server is shutting down"));
  auto obs = session->Observation(request->observation_id());
  if (!obs.ok()) return done(obs.status());
  if (request->deadline_us() != 0) {
    if (absl::Status s = CheckTime(request->deadline_us(), "deadline_us", options_.limits); !s.ok()) return done(s);
  }
  auto task = std::make_unique<DecodeTask>();
  task->runtime = session->runtime();  // sticky in canary mode (success-gated rollout)
  if (!task->runtime) task->runtime = models_->current();
  if (!task->runtime) return done(absl::UnavailableError("no model version is loaded yet"));
  task->observation = *std::move(obs);
  task->seed = ResolveSeed(request->seed());
  const RuntimeInfo& info = task->runtime->info();
  if (request->committed_steps_size() > 0 || request->inference_delay_steps() > 0) {
    const double model_period_s = 1.0 / info.control_rate_hz;
    const double period_s = session->spec().control_period_s;
    const int max_steps = ChunkSteps(info.action_horizon, model_period_s, period_s);
    if (absl::Status s = ValidateCommittedSteps(request->inference_delay_steps(), request->committed_steps(), max_steps,
                                                options_.limits);
        !s.ok()) {
      return done(s);
    }
    if (options_.realtime_chunking) {
      ModelPrefix p = ToModelPrefix(request->inference_delay_steps(), request->committed_steps(), period_s,
                                    model_period_s, info.action_horizon);
      task->executed_prefix = std::move(p.values);
      task->frozen_steps = p.frozen_steps;
    }
  }
  const absl::Duration horizon = info.control_rate_hz > 0
                                     ? absl::Seconds(static_cast<double>(info.action_horizon) / info.control_rate_hz)
                                     : absl::Seconds(1);
  const ActDeadline d = ComputeActDeadline(arrival, deadline, *task->observation, request->deadline_us(),
                                           session->last_chunk(), horizon, options_.drop_on_chunk_end);
  task->deadline_ = d.drop;
  task->urgency = d.urgency;
  task->run_out = d.run_out;
  task->late_after = d.late_after;
  task->arrival = arrival;
  task->enqueued = absl::Now();
  task->session = std::move(session);
  task->response = response;
  task->done = std::move(done);
  std::unique_ptr<DecodeTask> t = std::move(task);
  if (absl::Status s = decode_->Schedule(t); !s.ok()) t->done(s);
}

void PolicyEngine::RecordIfLate(const DecodeTask& task, absl::Time now) const {
  if (task.late_after <= now && options_.on_late_act) options_.on_late_act();
}

void PolicyEngine::ProcessEncode(std::vector<std::unique_ptr<EncodeTask>> batch) {
  const absl::Time started = absl::Now();
  for (auto& [runtime, tasks] : GroupByRuntime(batch)) EncodeGroup(*runtime, std::move(tasks), started);
}

void PolicyEngine::ProcessDecode(std::vector<std::unique_ptr<DecodeTask>> batch) {
  const absl::Time started = absl::Now();
  for (auto& [runtime, tasks] : GroupByRuntime(batch)) DecodeGroup(*runtime, std::move(tasks), started);
}

void PolicyEngine::EncodeGroup(const PolicyRuntime& runtime, std::vector<EncodeTask*> tasks, absl::Time started) {
  std::vector<std::shared_ptr<const RuntimeObservation>> inputs;
  std::vector<const RuntimeObservation*> batch;
  for (EncodeTask* t : tasks) {
    inputs.push_back(BuildObservation(t));
    batch.push_back(inputs.back().get());
  }
  const absl::Time t0 = absl::Now();
  std::vector<absl::StatusOr<ConditionPtr>> encoded = runtime.Encode(batch);
  const absl::Time t1 = absl::Now();
  const std::string& version = runtime.info().version;
  for (size_t i = 0; i < tasks.size(); ++i) {
    EncodeTask& t = *tasks[i];
    if (i >= encoded.size() || !encoded[i].ok()) {
      t.done(i < encoded.size() ? encoded[i].status() : absl::InternalError("runtime returned too few conditions"));
      continue;
    }
    auto o = std::make_shared<EncodedObservation>();
    o->id = t.observation_id;
    o->timestamp_us = t.request->timestamp_us();
    o->received = t.arrival;
    o->inputs = inputs[i];
    o->model_version = version;
    o->cond = *std::move(encoded[i]);
    if (!t.request->instruction().empty()) t.session->set_instruction(t.request->instruction(), t.observation_id);
    t.session->AddObservation(std::move(o));
    t.response->set_observation_id(t.observation_id);
    t.response->set_model_version(version);
    mivla::v1::ServerTiming* timing = t.response->mutable_timing();
    timing->set_queue_us(Us(started - t.enqueued));
    timing->set_encode_us(Us(t1 - t0) + t.image_decode_us);
    timing->set_encode_batch_size(static_cast<uint32_t>(tasks.size()));
    timing->set_total_us(Us(absl::Now() - t.arrival));
    t.done(absl::OkStatus());
  }
}

std::vector<DecodeTask*> PolicyEngine::ReEncode(const PolicyRuntime& runtime, const std::vector<DecodeTask*>& stale) {
  std::vector<const RuntimeObservation*> batch;
  for (DecodeTask* t : stale) batch.push_back(t->observation->inputs.get());
  std::vector<absl::StatusOr<ConditionPtr>> fresh = runtime.Encode(batch);
  std::vector<DecodeTask*> ok;
  for (size_t i = 0; i < stale.size(); ++i) {
    DecodeTask* t = stale[i];
    if (i >= fresh.size() || !fresh[i].ok()) {
      t->done(i < fresh.size() ? fresh[i].status() : absl::InternalError("runtime returned too few conditions"));
      continue;
    }
    auto o = std::make_shared<EncodedObservation>(*t->observation);
    o->model_version = runtime.info().version;
    o->cond = *std::move(fresh[i]);
    t->session->ReplaceObservation(o);
    t->observation = std::move(o);
    ok.push_back(t);
  }
  return ok;
}

void PolicyEngine::DecodeGroup(const PolicyRuntime& runtime, std::vector<DecodeTask*> tasks, absl::Time started) {
  // Conditions encoded by another runtime (model version) are re-encoded with this one first (one batch).
  std::vector<DecodeTask*> stale, current;
  for (DecodeTask* t : tasks) {
    const bool mine = t->observation->cond && t->observation->cond->runtime_instance() == runtime.instance();
    (mine ? current : stale).push_back(t);
  }
  absl::Duration encode_time = absl::ZeroDuration();
  std::vector<DecodeTask*> reencoded;
  if (!stale.empty()) {
    const absl::Time t0 = absl::Now();
    reencoded = ReEncode(runtime, stale);
    encode_time = absl::Now() - t0;
  }
  tasks.clear();
  for (DecodeTask* t : current) tasks.push_back(t);
  for (DecodeTask* t : reencoded) tasks.push_back(t);
  if (tasks.empty()) return;
  std::vector<DecodeItem> items;
  items.reserve(tasks.size());
  for (DecodeTask* t : tasks) items.push_back({t->observation->cond, t->seed, t->executed_prefix, t->frozen_steps});
  const absl::Time t0 = absl::Now();
  std::vector<absl::StatusOr<ChunkValues>> chunks = runtime.Decode(items);
  const absl::Time t1 = absl::Now();
  const RuntimeInfo& info = runtime.info();
  for (size_t i = 0; i < tasks.size(); ++i) {
    DecodeTask* t = tasks[i];
    if (i >= chunks.size() || !chunks[i].ok()) {
      t->done(i < chunks.size() ? chunks[i].status() : absl::InternalError("runtime returned too few chunks"));
      continue;
    }
    if (chunks[i]->horizon < 1 || chunks[i]->values.size() != static_cast<size_t>(chunks[i]->horizon) * action::kActionDim) {
      t->done(absl::InternalError(absl::StrCat("model version ", info.version, " returned ", chunks[i]->values.size(),
                                               " values for a ", chunks[i]->horizon, "-step chunk")));
      continue;
    }
    if (absl::Status s = WriteChunk(*chunks[i], info, *t); !s.ok()) {
      LogWarning("engine", std::string(s.message()));
      if (options_.on_non_finite_output) options_.on_non_finite_output(*t->session, info.version);
      t->done(s);
      continue;
    }
    const mivla::v1::ActionChunk& chunk = t->response->chunk();
    if (chunk.steps_size() > 0) {
      const int64_t period_us = static_cast<int64_t>(chunk.control_period_s() * 1e6);
      const int64_t last = chunk.steps(chunk.steps_size() - 1).timestamp_us();
      SentChunk sent;
      sent.observation_id = t->observation->id;
      sent.end_us = last > INT64_MAX - period_us ? INT64_MAX : last + period_us;
      sent.observation_time_us = t->observation->timestamp_us;
      sent.observation_received = t->observation->received;
      t->session->RecordChunk(sent);
    }
    const bool was_stale = i >= current.size();
    mivla::v1::ServerTiming* timing = t->response->mutable_timing();
    timing->set_queue_us(Us(started - t->enqueued) + t->extra_queue_us);
    timing->set_encode_us(was_stale ? Us(encode_time) : 0);
    timing->set_decode_us(Us(t1 - t0));
    timing->set_decode_batch_size(static_cast<uint32_t>(tasks.size()));
    const absl::Time answered = absl::Now();
    timing->set_total_us(Us(answered - t->arrival));
    if (!t->executed_prefix.empty() && options_.on_guided_act) options_.on_guided_act();
    RecordIfLate(*t, answered);
    t->done(absl::OkStatus());
  }
}

}  // namespace mivla::server
