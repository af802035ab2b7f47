// The mivla-server binary's operator controls of success-gated rollout, on real (random-weight, tiny)
// checkpoints: SIGUSR1 promotes the canary in trial, SIGUSR2 rolls it back (its file recorded rejected),
// a pin file read on SIGHUP pins a version, and a restarted server serves the pinned incumbent, tries
// the newer non-rejected checkpoint as a canary and never loads the rejected one. State is read through
// GetPolicyInfo.rollout over gRPC.
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "core/tokenizer/tokenizer.h"
#include "gtest/gtest.h"
#include "mivla/v1/policy.grpc.pb.h"
#include "server/runtime/random_checkpoint.h"

namespace mivla::server {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The mivla-server binary: $MIVLA_SERVER_BINARY, else beside the test binaries' folder (build/bin/tests/..
// -> build/bin/mivla-server, where mivla_cc_binary puts it).
std::string ServerBinary() {
  if (const char* env = std::getenv("MIVLA_SERVER_BINARY"); env != nullptr && *env != 0) return env;
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return (self.parent_path().parent_path() / "mivla-server").string();
}

// A mivla-server child: started with `args`, its port read from the `{"event":"listening",...}` line.
class ServerChild {
 public:
  explicit ServerChild(const std::vector<std::string>& args) {
    const std::string binary = ServerBinary();
    if (::access(binary.c_str(), X_OK) != 0) {
      ADD_FAILURE() << "no mivla-server at " << binary << " (build target mivla-server, or set MIVLA_SERVER_BINARY)";
      return;
    }
    int out[2];
    if (::pipe(out) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      ::dup2(out[1], STDOUT_FILENO);
      ::close(out[0]);
      std::vector<char*> argv;
      std::string name = binary;
      argv.push_back(name.data());
      std::vector<std::string> copy = args;
      for (std::string& a : copy) argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(binary.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    stdout_ = ::fdopen(out[0], "r");
    char line[512];
    while (stdout_ != nullptr && std::fgets(line, sizeof(line), stdout_) != nullptr) {
      int port = 0;
      if (std::sscanf(line, "{\"event\":\"listening\",\"port\":%d", &port) == 1) {
        port_ = port;
        break;
      }
    }
    if (port_ > 0) {
      channel_ = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port_), grpc::InsecureChannelCredentials());
      stub_ = mivla::v1::PolicyService::NewStub(channel_);
    }
  }
  ~ServerChild() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_ != nullptr) std::fclose(stdout_);
  }
  bool listening() const { return port_ > 0; }
  void Signal(int sig) { ::kill(pid_, sig); }
  /// SIGTERM, then the exit status (-1 when it did not exit normally).
  int Stop() {
    ::kill(pid_, SIGTERM);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  mivla::v1::RolloutInfo Rollout() {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    mivla::v1::GetPolicyInfoResponse info;
    if (!stub_->GetPolicyInfo(&ctx, {}, &info).ok()) return {};
    return info.rollout();
  }
  /// Polls GetPolicyInfo.rollout until `done` holds (generous: tiny loads take seconds on a busy machine).
  bool WaitFor(const std::function<bool(const mivla::v1::RolloutInfo&)>& done) {
    const absl::Time end = absl::Now() + absl::Seconds(120);
    while (absl::Now() < end) {
      if (done(Rollout())) return true;
      absl::SleepFor(absl::Milliseconds(50));
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  FILE* stdout_ = nullptr;
  int port_ = 0;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub_;
};

TEST(RolloutSignalsTest, SignalsPromoteRollBackAndPinAndARestartSkipsTheRejectedFile) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("rollout_signals_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  const std::string tokenizer = ReadAll(tokenizer::kTinyTokenizerModelPath);
  auto write = [&](const std::string& name, const std::string& version, uint64_t seed) {
    ASSERT_TRUE(WriteRandomCheckpoint((dir / name).string(), version, "tiny", seed, tokenizer).ok());
  };
  const std::string pin = (dir / "pin").string();
  const std::vector<std::string> args = {
      "--model-dir", dir.string(), "--host", "127.0.0.1", "--port", "0", "--metrics-port", "-1",
      "--poll-interval-ms", "100", "--settle-ms", "0", "--encode-max-batch-size", "2", "--decode-max-batch-size", "2",
      "--canary-share", "0.5", "--canary-min-episodes", "1000", "--pin-file", pin};
  using Info = mivla::v1::RolloutInfo;
  write("a.mivla", "v1", 1);
  {
    ServerChild server(args);
    ASSERT_TRUE(server.listening());
    EXPECT_TRUE(server.WaitFor([](const Info& r) { return r.mode() == "canary" && r.incumbent().version() == "v1"; }));
    write("b.mivla", "v2", 2);
    ASSERT_TRUE(server.WaitFor([](const Info& r) { return r.canary().version() == "v2"; }));
    server.Signal(SIGUSR1);  // promote now
    ASSERT_TRUE(server.WaitFor([](const Info& r) {
      return r.incumbent().version() == "v2" && !r.has_canary() && r.last_decision().decision() == "promote" &&
             r.last_decision().by() == "operator";
    }));
    write("c.mivla", "v3", 3);
    ASSERT_TRUE(server.WaitFor([](const Info& r) { return r.canary().version() == "v3"; }));
    server.Signal(SIGUSR2);  // roll back now
    ASSERT_TRUE(server.WaitFor([](const Info& r) {
      return r.last_decision().decision() == "rollback" && r.rejected_checkpoints() == 1 && !r.has_canary();
    }));
    EXPECT_EQ(server.Rollout().incumbent().version(), "v2");
    std::ofstream(pin) << "v1\n";
    server.Signal(SIGHUP);  // rescan: re-reads the pin file
    ASSERT_TRUE(server.WaitFor([](const Info& r) {
      return r.mode() == "pinned" && r.pinned_version() == "v1" && r.incumbent().version() == "v1";
    }));
    EXPECT_EQ(server.Stop(), 0);
  }
  // Restarted without the pin: the pinned v1 was recorded as the incumbent, v2 (newer, not rejected) gets a
  // trial, and c.mivla (v3, rolled back) is never loaded.
  std::filesystem::remove(pin);
  ServerChild again(args);
  ASSERT_TRUE(again.listening());
  ASSERT_TRUE(again.WaitFor([](const Info& r) { return r.incumbent().version() == "v1" && r.has_canary(); }));
  absl::SleepFor(absl::Milliseconds(500));  // several more scans
  const Info r = again.Rollout();
  EXPECT_EQ(r.canary().version(), "v2");
  EXPECT_EQ(r.rejected_checkpoints(), 1u);
  EXPECT_EQ(again.Stop(), 0);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace mivla::server
