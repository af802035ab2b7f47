#include "core/tokenizer/proto_wire_reader.h"

#include <cstring>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/util/status_macros.h"

namespace mivla::tokenizer::internal {
namespace {

constexpr uint32_t kMaxFieldNumber = (1u << 29) - 1;
constexpr size_t kMaxGroupDepth = 64;

uint64_t LoadLittleEndian(const char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

}  // namespace

float WireField::AsFloat() const {
  float f;
  static_assert(sizeof(f) == sizeof(fixed32), "float must be 32 bits");
  std::memcpy(&f, &fixed32, sizeof(f));
  return f;
}

absl::StatusOr<uint64_t> WireReader::ReadVarint() {
  uint64_t value = 0;
  for (int i = 0; i < 10; ++i) {
    if (pos_ >= data_.size()) {
      return absl::InvalidArgumentError(absl::StrCat("truncated varint at byte ", pos_));
    }
    const auto byte = static_cast<unsigned char>(data_[pos_++]);
    value |= static_cast<uint64_t>(byte & 0x7F) << (7 * i);
    if ((byte & 0x80) == 0) return value;
  }
  return absl::InvalidArgumentError(absl::StrCat("varint longer than 10 bytes before byte ", pos_));
}

absl::Status WireReader::Skip(WireType type, uint32_t number) {
  // Skips the value of a field whose tag has been read. Groups are walked iteratively (no recursion
  // on attacker-controlled depth).
  std::vector<uint32_t> open_groups;
  for (;;) {
    size_t need = 0;
    switch (type) {
      case WireType::kVarint: {
        ASSIGN_OR_RETURN(uint64_t ignored, ReadVarint());
        (void)ignored;
        break;
      }
      case WireType::kFixed64:
        need = 8;
        break;
      case WireType::kFixed32:
        need = 4;
        break;
      case WireType::kLengthDelimited: {
        ASSIGN_OR_RETURN(need, ReadVarint());
        break;
      }
      case WireType::kStartGroup:
        if (open_groups.size() >= kMaxGroupDepth) {
          return absl::InvalidArgumentError(absl::StrCat("groups nested too deep at byte ", pos_));
        }
        open_groups.push_back(number);
        break;
      case WireType::kEndGroup:
        if (open_groups.empty() || open_groups.back() != number) {
          return absl::InvalidArgumentError(absl::StrCat("unmatched end-group at byte ", pos_));
        }
        open_groups.pop_back();
        break;
    }
    if (need > data_.size() - pos_) {
      return absl::InvalidArgumentError(
          absl::StrCat("field ", number, " runs past the end of the input at byte ", pos_));
    }
    pos_ += need;
    if (open_groups.empty()) return absl::OkStatus();
    // Inside a group: read the next tag.
    ASSIGN_OR_RETURN(uint64_t tag, ReadVarint());
    const uint64_t wire = tag & 7;
    if (wire > 5 || (tag >> 3) == 0 || (tag >> 3) > kMaxFieldNumber) {
      return absl::InvalidArgumentError(absl::StrCat("bad tag ", tag, " before byte ", pos_));
    }
    type = static_cast<WireType>(wire);
    number = static_cast<uint32_t>(tag >> 3);
  }
}

absl::StatusOr<WireField> WireReader::Next() {
  const size_t start = pos_;
  ASSIGN_OR_RETURN(uint64_t tag, ReadVarint());
  const uint64_t wire = tag & 7;
  const uint64_t number = tag >> 3;
  if (wire > 5) {
    return absl::InvalidArgumentError(absl::StrCat("unknown wire type ", wire, " at byte ", start));
  }
  if (number == 0 || number > kMaxFieldNumber) {
    return absl::InvalidArgumentError(absl::StrCat("bad field number ", number, " at byte ", start));
  }
  WireField field;
  field.number = static_cast<uint32_t>(number);
  field.type = static_cast<WireType>(wire);
  switch (field.type) {
    case WireType::kVarint: {
      ASSIGN_OR_RETURN(field.varint, ReadVarint());
      return field;
    }
    case WireType::kFixed32:
    case WireType::kFixed64: {
      const size_t n = field.type == WireType::kFixed32 ? 4 : 8;
      if (n > data_.size() - pos_) {
        return absl::InvalidArgumentError(absl::StrCat("truncated fixed field at byte ", start));
      }
      const uint64_t v = LoadLittleEndian(data_.data() + pos_, static_cast<int>(n));
      pos_ += n;
      if (n == 4) {
        field.fixed32 = static_cast<uint32_t>(v);
      } else {
        field.fixed64 = v;
      }
      return field;
    }
    case WireType::kLengthDelimited: {
      ASSIGN_OR_RETURN(uint64_t length, ReadVarint());
      if (length > data_.size() - pos_) {
        return absl::InvalidArgumentError(absl::StrCat("field ", number, " at byte ", start,
                                                       " claims ", length, " bytes, only ",
                                                       data_.size() - pos_, " left"));
      }
      field.bytes = data_.substr(pos_, static_cast<size_t>(length));
      pos_ += static_cast<size_t>(length);
      return field;
    }
    case WireType::kStartGroup:
      RETURN_IF_ERROR(Skip(field.type, field.number));
      return field;
    case WireType::kEndGroup:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("end-group without a group at byte ", start));
}

}  // namespace mivla::tokenizer::internal
