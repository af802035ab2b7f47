// File: policy_connection.cc
#include "client/net/policy_connection.h"

#include <grpcpp/create_channel.h>
#include <grpcpp/security/credentials.h>
#include <grpcpp/support/channel_arguments.h>

#include <chrono>

#include "absl/strings/str_cat.h"
#include "core/util/read_file.h"
#include "core/util/status_prefix.h"

namespace mivla::client {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return WithPrefix(text.status(), absl::StrCat(what, ": "));
  if (text->find("-----BEGIN") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "': not a PEM file"));
  }
  return text;
}

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

absl::Status FromGrpc(const grpc::Status& s, const char* rpc) {
  if (s.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()), absl::StrCat(rpc, ": ", s.error_message()));
}

absl::StatusOr<std::unique_ptr<PolicyConnection>> PolicyConnection::Create(ConnectionOptions options) {
  if (options.target.empty()) return absl::InvalidArgumentError("server address: empty (want HOST:PORT)");
  if (options.target.find(':') == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("server address '", options.target, "': want HOST:PORT"));
  }
  if (options.rpc_timeout_ms <= 0 || options.connect_timeout_ms <= 0) {
    return absl::InvalidArgumentError("rpc_timeout_ms and connect_timeout_ms must be positive");
  }
  if (options.backoff.initial_ms <= 0 || options.backoff.max_ms < options.backoff.initial_ms ||
      options.backoff.multiplier < 1.0) {
    return absl::InvalidArgumentError("backoff: want 0 < initial_ms <= max_ms and multiplier >= 1");
  }
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (options.tls) {
    grpc::SslCredentialsOptions ssl;
    if (!options.root_cert_file.empty()) {
      absl::StatusOr<std::string> root = ReadPem(options.root_cert_file, "root certificate");
      if (!root.ok()) return root.status();
      ssl.pem_root_certs = *root;
    }
    if (options.client_cert_file.empty() != options.client_key_file.empty()) {
      return absl::InvalidArgumentError("mutual TLS needs both a client certificate and a client key");
    }
    if (!options.client_cert_file.empty()) {
      absl::StatusOr<std::string> cert = ReadPem(options.client_cert_file, "client certificate");
      if (!cert.ok()) return cert.status();
      absl::StatusOr<std::string> key = ReadPem(options.client_key_file, "client key");
      if (!key.ok()) return key.status();
      ssl.pem_cert_chain = *cert;
      ssl.pem_private_key = *key;
    }
    creds = grpc::SslCredentials(ssl);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  std::unique_ptr<PolicyConnection> c(new PolicyConnection(std::move(options), std::move(creds)));
  c->NewChannel();
  return c;
}

void PolicyConnection::NewChannel() {
  grpc::ChannelArguments args;
  // gRPC's own reconnect backoff follows ours, so a server that comes back is found quickly.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff.initial_ms));
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff.initial_ms));
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, static_cast<int>(options_.backoff.max_ms));
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  if (!options_.server_name_override.empty()) {
    args.SetSslTargetNameOverride(options_.server_name_override);
  }
  // Each connection gets its own subchannel, so a reconnect never reuses a dead one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  channel_ = grpc::CreateCustomChannel(options_.target, creds_, args);
  stub_ = mivla::v1::PolicyService::NewStub(channel_);
}

void PolicyConnection::Prepare(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(options_.rpc_timeout_ms));
  if (!options_.token.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", options_.token));
}

absl::StatusOr<mivla::v1::GetPolicyInfoResponse> PolicyConnection::GetPolicyInfo() {
  grpc::ClientContext ctx;
  Prepare(&ctx);
  mivla::v1::GetPolicyInfoResponse resp;
  grpc::Status s = stub_->GetPolicyInfo(&ctx, mivla::v1::GetPolicyInfoRequest(), &resp);
  if (!s.ok()) return FromGrpc(s, "GetPolicyInfo");
  return resp;
}

absl::StatusOr<mivla::v1::StartSessionResponse> PolicyConnection::StartSession(
    const mivla::v1::StartSessionRequest& request) {
  session_request_ = request;
  has_session_request_ = true;
  if (!channel_->WaitForConnected(std::chrono::system_clock::now() +
                                  std::chrono::milliseconds(options_.connect_timeout_ms))) {
    return absl::UnavailableError(absl::StrCat("StartSession: server ", options_.target, " not reachable within ",
                                               options_.connect_timeout_ms, " ms"));
  }
  grpc::ClientContext ctx;
  Prepare(&ctx);
  mivla::v1::StartSessionResponse resp;
  grpc::Status s = stub_->StartSession(&ctx, request, &resp);
  if (!s.ok()) return FromGrpc(s, "StartSession");
  session_ = resp;
  session_id_ = resp.session_id();
  backoff_.Reset();  // the server answered: a later loss starts from the first delay again
  return resp;
}

absl::StatusOr<ChunkReply> PolicyConnection::ObserveAndAct(mivla::v1::ObserveRequest observe, uint64_t seed,
                                                           mivla::v1::ActRequest act) {
  if (session_id_.empty()) return absl::FailedPreconditionError("ObserveAndAct: no session (StartSession first)");
  observe.set_session_id(session_id_);
  ChunkReply reply;
  const int64_t t0 = NowUs();
  {
    grpc::ClientContext ctx;
    Prepare(&ctx);
    mivla::v1::ObserveResponse resp;
    grpc::Status s = stub_->Observe(&ctx, observe, &resp);
    if (!s.ok()) return FromGrpc(s, "Observe");
    reply.observation_id = resp.observation_id();
  }
  act.set_session_id(session_id_);
  act.set_observation_id(reply.observation_id);
  act.set_seed(seed);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  grpc::Status s = stub_->Act(&ctx, act, &reply.act);
  if (!s.ok()) return FromGrpc(s, "Act");
  reply.round_trip_us = NowUs() - t0;
  return reply;
}

absl::Status PolicyConnection::ReportEpisode(mivla::v1::ReportEpisodeRequest request) {
  request.set_session_id(session_id_);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  mivla::v1::ReportEpisodeResponse resp;
  return FromGrpc(stub_->ReportEpisode(&ctx, request, &resp), "ReportEpisode");
}

absl::Status PolicyConnection::EndSession() {
  if (session_id_.empty()) return absl::OkStatus();
  mivla::v1::EndSessionRequest req;
  req.set_session_id(session_id_);
  grpc::ClientContext ctx;
  Prepare(&ctx);
  mivla::v1::EndSessionResponse resp;
  absl::Status s = FromGrpc(stub_->EndSession(&ctx, req, &resp), "EndSession");
  session_id_.clear();
  return s;
}

bool PolicyConnection::ChannelReady() const {
  return channel_ != nullptr && channel_->GetState(/*try_to_connect=*/false) == GRPC_CHANNEL_READY;
}

bool PolicyConnection::WaitWhileReady(int64_t timeout_us) {
  if (!ChannelReady()) return false;
  const bool changed = channel_->WaitForStateChange(
      GRPC_CHANNEL_READY, std::chrono::system_clock::now() + std::chrono::microseconds(timeout_us));
  return !changed || ChannelReady();
}

absl::Status PolicyConnection::Reconnect() {
  if (!has_session_request_) return absl::FailedPreconditionError("Reconnect: no session was started");
  NewChannel();
  session_id_.clear();
  absl::StatusOr<mivla::v1::StartSessionResponse> r = StartSession(session_request_);
  if (!r.ok()) return r.status();
  ++reconnects_;
  return absl::OkStatus();
}

}  // namespace mivla::client
