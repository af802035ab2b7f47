// File: proto_wire_reader.h
// A minimal reader of the protobuf wire format, enough to read a SentencePiece ModelProto without
// linking libprotobuf or libsentencepiece.
//
//   WireReader reader(bytes);
//   while (!reader.AtEnd()) {
//     ASSIGN_OR_RETURN(WireField f, reader.Next());
//     if (f.number == 1 && f.type == WireType::kLengthDelimited) Use(f.bytes);
//     // anything else is simply not looked at: Next() has already skipped it
//   }
//
// Contract: Next() reads one whole field (tag and value) and never reads outside the input. Every
// malformed or truncated input (varint over 10 bytes, field number 0 or above 2^29-1, a length past the
// end, an unknown wire type, unbalanced or over-deep groups) gives INVALID_ARGUMENT; nothing is
// allocated from a length read off the wire. Groups are skipped whole and reported as kStartGroup with
// empty bytes.
//
// Thread-safety: a WireReader is a cursor; use one per thread. It does not own the bytes, which must
// outlive it and every WireField::bytes view it hands out.
#ifndef MIVLA_CORE_TOKENIZER_PROTO_WIRE_READER_H_
#define MIVLA_CORE_TOKENIZER_PROTO_WIRE_READER_H_

#include <cstddef>
#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mivla::tokenizer::internal {

enum class WireType : int {
  kVarint = 0,
  kFixed64 = 1,
  kLengthDelimited = 2,
  kStartGroup = 3,
  kEndGroup = 4,
  kFixed32 = 5,
};

/// One field. Only the member matching `type` is meaningful.
struct WireField {
  uint32_t number = 0;
  WireType type = WireType::kVarint;
  uint64_t varint = 0;      // kVarint
  uint32_t fixed32 = 0;     // kFixed32
  uint64_t fixed64 = 0;     // kFixed64
  absl::string_view bytes;  // kLengthDelimited (a view into the reader's input)

  /// The varint as a proto int32/enum (two's complement truncation, as protobuf does).
  int32_t AsInt32() const { return static_cast<int32_t>(static_cast<uint32_t>(varint)); }
  bool AsBool() const { return varint != 0; }
  /// The fixed32 as a proto float.
  float AsFloat() const;
};

class WireReader {
 public:
  explicit WireReader(absl::string_view data) : data_(data) {}

  bool AtEnd() const { return pos_ >= data_.size(); }
  /// Reads the next field; INVALID_ARGUMENT (with the byte offset) when the input is malformed.
  absl::StatusOr<WireField> Next();

 private:
  absl::StatusOr<uint64_t> ReadVarint();
  absl::Status Skip(WireType type, uint32_t number);

  absl::string_view data_;
  size_t pos_ = 0;
};

}  // namespace mivla::tokenizer::internal

#endif  // MIVLA_CORE_TOKENIZER_PROTO_WIRE_READER_H_
