#include "server/service/auth.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "core/util/read_file.h"
#include "core/util/status_prefix.h"

namespace mivla::server {
namespace {

bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  unsigned char diff = a.size() == b.size() ? 0 : 1;
  for (size_t i = 0; i < b.size(); ++i) diff |= static_cast<unsigned char>(a[i % (a.empty() ? 1 : a.size())] ^ b[i]);
  return diff == 0 && !a.empty();
}

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return WithPrefix(text.status(), absl::StrCat(what, ": "));
  if (!absl::StrContains(*text, "-----BEGIN ")) {
    return absl::InvalidArgumentError(absl::StrCat(what, " '", path, "' is not a PEM file"));
  }
  return text;
}

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> ServerCredentialsFromFiles(const TlsFiles& f) {
  if (f.cert_file.empty() && f.key_file.empty()) {
    if (!f.client_ca_file.empty()) {
      return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key (mutual TLS is TLS)");
    }
    return grpc::InsecureServerCredentials();
  }
  if (f.cert_file.empty() || f.key_file.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key must be given together");
  }
  grpc::SslServerCredentialsOptions options;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  auto cert = ReadPem(f.cert_file, "--tls-cert");
  if (!cert.ok()) return cert.status();
  auto key = ReadPem(f.key_file, "--tls-key");
  if (!key.ok()) return key.status();
  pair.cert_chain = *cert;
  pair.private_key = *key;
  options.pem_key_cert_pairs.push_back(pair);
  if (!f.client_ca_file.empty()) {
    auto ca = ReadPem(f.client_ca_file, "--tls-client-ca");
    if (!ca.ok()) return ca.status();
    options.pem_root_certs = *ca;
    options.client_certificate_request = GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::unique_ptr<TokenAuthenticator>> TokenAuthenticator::FromFile(const std::string& path) {
  if (path.empty()) return FromTokens({});
  absl::StatusOr<std::string> text = ReadFile(path);
  if (!text.ok()) return WithPrefix(text.status(), "--token-file: ");
  std::vector<std::string> tokens;
  for (absl::string_view line : absl::StrSplit(*text, '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (line.empty() || line[0] == '#') continue;
    tokens.emplace_back(line);
  }
  if (tokens.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("--token-file '", path, "' holds no token"));
  }
  return FromTokens(std::move(tokens));
}

std::unique_ptr<TokenAuthenticator> TokenAuthenticator::FromTokens(std::vector<std::string> tokens) {
  return std::unique_ptr<TokenAuthenticator>(new TokenAuthenticator(std::move(tokens)));
}

absl::Status TokenAuthenticator::Check(const grpc::CallbackServerContext& context) const {
  return Identify(context).status();
}

std::string ClientAddress(const std::string& peer) {
  if (absl::StartsWith(peer, "unix:") || absl::StartsWith(peer, "unix-abstract:")) return "addr:unix";
  std::string host;
  if (absl::StartsWith(peer, "ipv4:")) {
    host = peer.substr(5);
  } else if (absl::StartsWith(peer, "ipv6:")) {
    host = absl::StrReplaceAll(peer.substr(5), {{"%5B", "["}, {"%5D", "]"}, {"%5b", "["}, {"%5d", "]"}});
  } else {
    return "addr:" + peer;
  }
  const size_t colon = host.rfind(':');
  const size_t bracket = host.rfind(']');
  if (colon != std::string::npos && (bracket == std::string::npos || colon > bracket)) host.resize(colon);
  return "addr:" + host;
}

absl::StatusOr<std::string> TokenAuthenticator::Identify(const grpc::CallbackServerContext& context) const {
  if (tokens_.empty()) return std::string();
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return absl::UnauthenticatedError("missing 'authorization: Bearer <token>' metadata");
  const std::string value(it->second.data(), it->second.size());
  constexpr char kBearer[] = "Bearer ";
  if (!absl::StartsWith(value, kBearer)) {
    return absl::UnauthenticatedError("authorization metadata must be 'Bearer <token>'");
  }
  const std::string token = value.substr(sizeof(kBearer) - 1);
  int found = -1;
  for (size_t i = 0; i < tokens_.size(); ++i) {
    if (ConstantTimeEquals(tokens_[i], token)) found = static_cast<int>(i);
  }
  if (found < 0) return absl::UnauthenticatedError("bearer token not accepted");
  return absl::StrCat("token#", found + 1);
}

}  // namespace mivla::server
