// File: policy_connection.h
// The robot's side of mivla.v1.PolicyService: one gRPC channel (plaintext, or TLS with an optional
// client certificate; a bearer token as `authorization` metadata when configured), a session for the
// robot's embodiment and camera layout, Observe + Act with the round trip measured, GetPolicyInfo,
// ReportEpisode, EndSession, and Reconnect: a fresh channel and a fresh session (the server may have
// restarted and forgotten the old one), retried with capped exponential backoff.
//
//   ASSIGN_OR_RETURN(auto conn, PolicyConnection::Create(options));
//   RETURN_IF_ERROR(conn->StartSession(request::BuildStartSession(spec)));
//   ASSIGN_OR_RETURN(ChunkReply r, conn->ObserveAndAct(std::move(observe), /*seed=*/0));
//
// Thread-compatible: calls must not overlap (the robot client makes them from one thread at a time).
#ifndef MIVLA_CLIENT_NET_POLICY_CONNECTION_H_
#define MIVLA_CLIENT_NET_POLICY_CONNECTION_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "client/net/backoff.h"
#include <grpcpp/security/credentials.h>

#include "mivla/v1/policy.grpc.pb.h"

namespace mivla::client {

struct ConnectionOptions {
  std::string target;                // "host:port"
  bool tls = false;
  std::string root_cert_file;        // PEM CA for the server certificate; empty = system roots
  std::string client_cert_file;      // PEM, mutual TLS (with client_key_file)
  std::string client_key_file;
  std::string server_name_override;  // TLS name to check instead of the target's host
  std::string token;                 // bearer token; empty = none
  int64_t rpc_timeout_ms = 2000;     // deadline of each call
  int64_t connect_timeout_ms = 1000; // wait for the channel to become ready
  BackoffOptions backoff;
};

struct ChunkReply {
  mivla::v1::ActResponse act;
  uint64_t observation_id = 0;
  int64_t round_trip_us = 0;  // Observe sent -> Act answered
};

class PolicyConnection {
 public:
  /// Reads the TLS files (errors name them); builds the channel without contacting the server.
  static absl::StatusOr<std::unique_ptr<PolicyConnection>> Create(ConnectionOptions options);

  absl::StatusOr<mivla::v1::GetPolicyInfoResponse> GetPolicyInfo();
  /// Starts the session (remembered for Reconnect). A success resets the backoff.
  absl::StatusOr<mivla::v1::StartSessionResponse> StartSession(const mivla::v1::StartSessionRequest& request);
  /// Observe then Act on that observation. `observe.session_id` is filled in; `act` may carry the Act's
  /// optional fields (real-time chunking's committed steps): its session, observation and seed are set here.
  absl::StatusOr<ChunkReply> ObserveAndAct(mivla::v1::ObserveRequest observe, uint64_t seed,
                                           mivla::v1::ActRequest act = {});
  absl::Status ReportEpisode(mivla::v1::ReportEpisodeRequest request);
  absl::Status EndSession();

  /// One attempt: a new channel and StartSession with the remembered request. Callers pace attempts
  /// with NextBackoffMs(); a success resets the backoff (as every successful StartSession does).
  absl::Status Reconnect();
  int64_t NextBackoffMs() { return backoff_.NextDelayMs(); }

  /// False when the channel has left the READY state (e.g. the server's connection closed): the session
  /// is to be treated as lost. Cheap; does not try to connect.
  bool ChannelReady() const;
  /// Waits up to `timeout_us` while driving the channel's I/O (so a closed connection is noticed even
  /// with no call in flight); false when the channel is not, or stops being, READY.
  bool WaitWhileReady(int64_t timeout_us);

  const std::string& session_id() const { return session_id_; }
  const mivla::v1::StartSessionResponse& session() const { return session_; }
  int64_t reconnects() const { return reconnects_; }
  const ConnectionOptions& options() const { return options_; }

 private:
  PolicyConnection(ConnectionOptions options, std::shared_ptr<grpc::ChannelCredentials> creds)
      : options_(std::move(options)), creds_(std::move(creds)), backoff_(options_.backoff) {}
  void NewChannel();
  void Prepare(grpc::ClientContext* context) const;

  ConnectionOptions options_;
  std::shared_ptr<grpc::ChannelCredentials> creds_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<mivla::v1::PolicyService::Stub> stub_;
  Backoff backoff_;
  bool has_session_request_ = false;
  mivla::v1::StartSessionRequest session_request_;
  mivla::v1::StartSessionResponse session_;
  std::string session_id_;
  int64_t reconnects_ = 0;
};

/// gRPC status -> absl::Status (same code and message).
absl::Status FromGrpc(const grpc::Status& s, const char* rpc);

}  // namespace mivla::client

#endif  // MIVLA_CLIENT_NET_POLICY_CONNECTION_H_
