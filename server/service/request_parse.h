// File: request_parse.h
// Parses a raw gRPC request into its message, so a parse failure is answered INVALID_ARGUMENT with a
// message instead of gRPC's own empty UNIMPLEMENTED (what the generated typed handlers answer when
// deserialisation fails). On failure the wire bytes are walked with the message's descriptor to name
// the first bad field: "request: not a valid mivla.v1.StartSessionRequest: robot_id: not valid UTF-8".
// Thread-safe (pure functions).
#ifndef MIVLA_SERVER_SERVICE_REQUEST_PARSE_H_
#define MIVLA_SERVER_SERVICE_REQUEST_PARSE_H_

#include <string>
#include "absl/strings/string_view.h"

#include <google/protobuf/message.h>
#include <grpcpp/support/byte_buffer.h>

#include "absl/status/status.h"

namespace mivla::server {

absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* message);
/// As ParseRequest, from bytes (tests, fuzzing).
absl::Status ParseRequestBytes(absl::string_view bytes, google::protobuf::Message* message);
/// The first problem found walking `bytes` as `descriptor`'s wire format ("" when none is found).
std::string DiagnoseWireFormat(const google::protobuf::Descriptor& descriptor, absl::string_view bytes);

/// Serialises a response for a raw call; INTERNAL when it cannot be.
absl::Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* raw);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_SERVICE_REQUEST_PARSE_H_
