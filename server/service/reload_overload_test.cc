// Hot reload under load and overload behaviour, over a real loopback socket.
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <cstdio>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/checkpoint/model_checkpoint.h"
#include "server/inference/test_requests.h"
#include "server/service/service_test_util.h"

namespace mivla::server {
namespace {

using action::Embodiment;
namespace t = ::mivla::server::testing;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Versions sort by name in the order they are written, so "moves forward" is a string comparison.
void WriteCheckpoint(const std::filesystem::path& dir, const std::string& version, uint64_t seed) {
  checkpoint::PolicyBundle b;
  b.model_version = version;
  b.config = *model::ConfigByName("tiny");
  torch::manual_seed(seed);
  b.model = model::MivlaModel(b.config);
  b.tokenizer_model = ReadAll(tokenizer::kTinyTokenizerModelPath);
  ASSERT_TRUE(checkpoint::SaveModelCheckpoint((dir / (version + ".mivla")).string(), b).ok());
}

// Writes a file beside the target and renames it into place, as a deployment copies checkpoints in.
void PlaceFile(const std::filesystem::path& dir, const std::string& name, const std::string& bytes) {
  const auto tmp = dir / ("." + name + ".partial");
  std::ofstream(tmp.string(), std::ios::binary) << bytes;
  std::filesystem::rename(tmp, dir / name);
}

TEST(HotReloadTest, EightSessionsActThroughFiveCheckpointsWithoutAFailedCall) {
  const auto dir = std::filesystem::temp_directory_path() / ("reload_load_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  WriteCheckpoint(dir, "v01", 1);
  ServerOptions o = t::LoopbackOptions();
  o.random_init = false;
  o.model_dir = dir.string();
  o.poll_interval = absl::Milliseconds(100);
  auto s = t::StartLoopback(o);
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_EQ(s->server->models().current()->version(), "v01");

  const std::vector<Embodiment> es = {Embodiment::kPiper, Embodiment::kArx5, Embodiment::kAlohaAgilex,
                                      Embodiment::kLocoman, Embodiment::kHuman, Embodiment::kPiper,
                                      Embodiment::kArx5, Embodiment::kLocoman};
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0};
  std::vector<std::thread> robots;
  for (size_t r = 0; r < es.size(); ++r) {
    robots.emplace_back([&, r] {
      grpc::ClientContext sctx;
      mivla::v1::StartSessionResponse started;
      if (!s->stub->StartSession(&sctx, t::StartRequest(es[r]), &started).ok()) return void(failed++);
      grpc::ClientContext octx;
      mivla::v1::ObserveResponse observed;
      if (!s->stub->Observe(&octx, t::ObserveFor(es[r], started.session_id(), r + 1), &observed).ok()) {
        return void(failed++);
      }
      std::string last_version;
      while (!stop.load()) {
        grpc::ClientContext ctx;
        mivla::v1::ActRequest req;
        req.set_session_id(started.session_id());
        mivla::v1::ActResponse resp;
        grpc::Status st = s->stub->Act(&ctx, req, &resp);
        if (!st.ok()) {
          ADD_FAILURE() << "Act failed: " << st.error_code() << " " << st.error_message();
          failed++;
          continue;
        }
        EXPECT_GE(resp.model_version(), last_version) << "the version a robot sees never goes back";
        last_version = resp.model_version();
        ok++;
      }
    });
  }
  // Five new checkpoints: v02, a corrupt one, v03, a truncated one, v04. RSS is sampled after each load.
  const std::string good = ReadAll((dir / "v01.mivla").string());
  std::vector<int64_t> rss;
  std::vector<std::weak_ptr<const LoadedModel>> versions = {s->server->models().current()};
  auto wait_for = [&](const std::string& version) {
    for (int i = 0; i < 300 && s->server->models().current()->version() != version; ++i) {
      absl::SleepFor(absl::Milliseconds(50));
    }
    EXPECT_EQ(s->server->models().current()->version(), version);
    versions.push_back(s->server->models().current());
    absl::SleepFor(absl::Milliseconds(400));  // calls keep running on the new version
    rss.push_back(t::ResidentBytes());
  };
  absl::SleepFor(absl::Milliseconds(300));
  WriteCheckpoint(dir, "v02", 2);
  wait_for("v02");
  std::string corrupt = good;
  for (size_t i = corrupt.size() / 2; i < corrupt.size() / 2 + 64; ++i) corrupt[i] ^= 0x5a;
  PlaceFile(dir, "v02a-corrupt.mivla", corrupt);
  absl::SleepFor(absl::Milliseconds(800));
  WriteCheckpoint(dir, "v03", 3);
  wait_for("v03");
  PlaceFile(dir, "v03a-truncated.mivla", good.substr(0, good.size() * 2 / 3));
  absl::SleepFor(absl::Milliseconds(800));
  WriteCheckpoint(dir, "v04", 4);
  wait_for("v04");
  stop = true;
  for (auto& r : robots) r.join();

  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 40);
  EXPECT_EQ(s->server->models().reloads_ok(), 3);
  EXPECT_EQ(s->server->models().reloads_failed(), 2);
  const std::string metrics = s->server->registry().Expose();
  EXPECT_THAT(metrics, ::testing::HasSubstr("mivla_model_reloads_total{result=\"failed\"} 2"));
  EXPECT_THAT(metrics, ::testing::HasSubstr("mivla_model_info{version=\"v04\"} 1"));
  // Memory does not grow with each reload: the old versions are released. One tiny model's weights
  // are ~30 MB of floats; three reloads that leaked would add ~90 MB.
  const int64_t model_bytes = static_cast<int64_t>(good.size());
  ASSERT_EQ(rss.size(), 3u);
  std::printf("RSS after each reload: %lld %lld %lld bytes; checkpoint %lld bytes; %d calls\n",
              static_cast<long long>(rss[0]), static_cast<long long>(rss[1]), static_cast<long long>(rss[2]),
              static_cast<long long>(model_bytes), ok.load());
  // Every replaced version was freed once its last call ended ...
  for (size_t i = 0; i + 1 < versions.size(); ++i) EXPECT_TRUE(versions[i].expired()) << "version " << i;
  EXPECT_FALSE(versions.back().expired());
  // ... and resident memory levels off instead of growing by a model per reload (the allocator keeps
  // some freed pages, so the first swap may raise it once).
  EXPECT_LT(rss[2] - rss[1], model_bytes / 2);
  EXPECT_LT(rss[2] - rss[0], model_bytes * 3 / 2);
  s->server->Shutdown(absl::Seconds(2));
  std::filesystem::remove_all(dir);
}

TEST(OverloadTest, BurstGetsResourceExhaustedQuicklyThenServesNormally) {
  ServerOptions o = t::LoopbackOptions();
  o.encode.max_queue_depth = 2;
  o.encode.max_batch_size = 1;
  o.encode.max_queue_delay_us = 0;
  auto s = t::StartLoopback(o);
  ASSERT_TRUE(s.ok()) << s.status();
  grpc::ClientContext sctx;
  mivla::v1::StartSessionResponse started;
  ASSERT_TRUE(s->stub->StartSession(&sctx, t::StartRequest(Embodiment::kAlohaAgilex), &started).ok());
  const auto req = t::ObserveFor(Embodiment::kAlohaAgilex, started.session_id(), 1);

  const int burst = 48;
  std::vector<grpc::StatusCode> codes(burst);
  std::vector<double> ms(burst);
  std::vector<std::thread> clients;
  for (int i = 0; i < burst; ++i) {
    clients.emplace_back([&, i] {
      grpc::ClientContext ctx;
      mivla::v1::ObserveResponse resp;
      const absl::Time t0 = absl::Now();
      codes[i] = s->stub->Observe(&ctx, req, &resp).error_code();
      ms[i] = absl::ToDoubleMilliseconds(absl::Now() - t0);
    });
  }
  for (auto& c : clients) c.join();
  int exhausted = 0, ok = 0;
  double worst_refusal_ms = 0, worst_ok_ms = 0;
  for (int i = 0; i < burst; ++i) {
    if (codes[i] == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
      worst_refusal_ms = std::max(worst_refusal_ms, ms[i]);
    } else {
      EXPECT_EQ(codes[i], grpc::StatusCode::OK);
      ++ok;
      worst_ok_ms = std::max(worst_ok_ms, ms[i]);
    }
  }
  EXPECT_GT(exhausted, burst / 2) << "a queue of depth 2 cannot hold a burst of " << burst;
  EXPECT_GT(ok, 0);
  // Refusals are answered at once, not after queueing behind the burst (bounded latency).
  EXPECT_LT(worst_refusal_ms, 1000.0) << "worst accepted call took " << worst_ok_ms << " ms";
  const std::string metrics = s->server->registry().Expose();
  EXPECT_THAT(metrics, ::testing::HasSubstr(absl::StrCat("mivla_queue_rejected_total{stage=\"encode\"} ", exhausted)));
  // After the burst the server serves normally.
  for (int i = 0; i < 3; ++i) {
    grpc::ClientContext ctx;
    mivla::v1::ObserveResponse resp;
    EXPECT_TRUE(s->stub->Observe(&ctx, req, &resp).ok());
  }
}

}  // namespace
}  // namespace mivla::server
