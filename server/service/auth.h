// File: auth.h
// Transport security and caller authentication for the gRPC server:
// - ServerCredentialsFromFiles: insecure (no cert), TLS (server cert + key) or mutual TLS (plus a CA
//   bundle that client certificates must chain to; clients without one are refused in the handshake).
// - TokenAuthenticator: optional bearer tokens from a token file (one token per line, '#' comments);
//   a call without `authorization: Bearer <token>` metadata matching one of them is UNAUTHENTICATED.
//   Comparison is constant-time. The health service stays open (probes carry no token).
// Thread-safety: TokenAuthenticator is immutable after Create and safe to share.
#ifndef MIVLA_SERVER_SERVICE_AUTH_H_
#define MIVLA_SERVER_SERVICE_AUTH_H_

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/security/server_credentials.h>
#include <grpcpp/server_context.h>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla::server {

struct TlsFiles {
  std::string cert_file;       // PEM server certificate chain; empty = no TLS
  std::string key_file;        // PEM private key
  std::string client_ca_file;  // PEM CA bundle; set = mutual TLS (client certificate required)
};

/// INVALID_ARGUMENT / NOT_FOUND naming the file when a file is missing, unreadable or not PEM.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(const TlsFiles& files);

class TokenAuthenticator {
 public:
  /// Empty path: authentication off (every call passes). Errors name the file.
  static absl::StatusOr<std::unique_ptr<TokenAuthenticator>> FromFile(const std::string& path);
  static std::unique_ptr<TokenAuthenticator> FromTokens(std::vector<std::string> tokens);

  bool enabled() const { return !tokens_.empty(); }
  /// OK, or UNAUTHENTICATED saying what was missing or wrong (never echoing the token).
  absl::Status Check(const grpc::CallbackServerContext& context) const;
  /// As Check, naming the caller for per-client limits and logs: "token#N" (the token's line among the
  /// accepted tokens, counting from 1; never the token itself), or "" when authentication is off.
  absl::StatusOr<std::string> Identify(const grpc::CallbackServerContext& context) const;

 private:
  explicit TokenAuthenticator(std::vector<std::string> tokens) : tokens_(std::move(tokens)) {}
  std::vector<std::string> tokens_;
};

/// The client a peer stands for when clients are told apart by address (--clients-by-address): "addr:"
/// and the peer's IP address without its port, from gRPC's peer string ("ipv4:10.0.0.7:5123" ->
/// "addr:10.0.0.7"; "ipv6:[::1]:5123" or "ipv6:%5B::1%5D:5123" -> "addr:[::1]"); "addr:unix" for a
/// Unix-socket peer; "addr:" and the whole string for anything else.
std::string ClientAddress(const std::string& peer);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_AUTH_H_
