#include "server/service/request_parse.h"

#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/io/coded_stream.h>
#include <grpcpp/support/proto_buffer_reader.h>
#include <grpcpp/support/proto_buffer_writer.h>
#include <grpcpp/impl/codegen/proto_utils.h>

#include "absl/strings/str_cat.h"
#include "server/inference/string_checks.h"

namespace mivla::server {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::io::CodedInputStream;

std::string Walk(const Descriptor& d, absl::string_view bytes, const std::string& prefix, int depth) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  while (true) {
    const uint32_t tag = in.ReadTag();
    if (tag == 0) return in.ConsumedEntireMessage() || in.CurrentPosition() >= static_cast<int>(bytes.size())
                             ? ""
                             : absl::StrCat(prefix.empty() ? "" : prefix, "bad field tag at byte ", in.CurrentPosition());
    const FieldDescriptor* f = d.FindFieldByNumber(static_cast<int>(tag >> 3));
    const std::string name = f != nullptr ? prefix + f->name() : absl::StrCat(prefix, "field ", tag >> 3);
    uint64_t v64;
    uint32_t v32;
    switch (tag & 7) {
      case 0:
        if (!in.ReadVarint64(&v64)) return name + ": truncated varint";
        break;
      case 1:
        if (!in.ReadLittleEndian64(&v64)) return name + ": truncated 64-bit value";
        break;
      case 5:
        if (!in.ReadLittleEndian32(&v32)) return name + ": truncated 32-bit value";
        break;
      case 2: {
        std::string value;
        if (!in.ReadVarint32(&v32) || !in.ReadString(&value, static_cast<int>(v32))) {
          return name + ": length runs past the end of the message";
        }
        if (f == nullptr) break;
        if (f->type() == FieldDescriptor::TYPE_STRING && !IsValidUtf8(value)) return name + ": not valid UTF-8";
        if (f->type() == FieldDescriptor::TYPE_MESSAGE && depth < 16) {
          std::string inner = Walk(*f->message_type(), value, name + ".", depth + 1);
          if (!inner.empty()) return inner;
        }
        break;
      }
      default:
        return absl::StrCat(name, ": wire type ", tag & 7, " is not used by this API");
    }
  }
}

absl::Status Failed(const google::protobuf::Message& m, absl::string_view bytes) {
  std::string why = DiagnoseWireFormat(*m.GetDescriptor(), bytes);
  return absl::InvalidArgumentError(absl::StrCat("request: not a valid ", m.GetDescriptor()->full_name(),
                                                 why.empty() ? " (malformed protocol buffer)" : ": " + why));
}

}  // namespace

std::string DiagnoseWireFormat(const Descriptor& descriptor, absl::string_view bytes) {
  return Walk(descriptor, bytes, "", 0);
}

absl::Status ParseRequestBytes(absl::string_view bytes, google::protobuf::Message* message) {
  if (message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return absl::OkStatus();
  return Failed(*message, bytes);
}

absl::Status ParseRequest(const grpc::ByteBuffer& raw, google::protobuf::Message* message) {
  grpc::ByteBuffer copy(raw);  // shares the slices
  {
    grpc::ProtoBufferReader reader(&copy);
    if (reader.status().ok() && message->ParseFromZeroCopyStream(&reader)) return absl::OkStatus();
  }
  std::vector<grpc::Slice> slices;
  std::string bytes;
  if (raw.Dump(&slices).ok()) {
    for (const grpc::Slice& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  }
  return Failed(*message, bytes);
}

absl::Status SerializeResponse(const google::protobuf::Message& message, grpc::ByteBuffer* raw) {
  bool own = false;
  raw->Clear();  // the writer needs an empty buffer (a stream reuses its response buffer)
  grpc::Status s = grpc::SerializationTraits<google::protobuf::Message>::Serialize(message, raw, &own);
  if (!s.ok()) return absl::InternalError(absl::StrCat("response could not be serialised: ", s.error_message()));
  return absl::OkStatus();
}

}  // namespace mivla::server
