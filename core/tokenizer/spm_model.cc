#include "core/tokenizer/spm_model.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/proto_wire_reader.h"
#include "core/util/status_macros.h"

namespace mivla::tokenizer::internal {
namespace {

absl::Status WrongType(absl::string_view message, const WireField& f) {
  return absl::InvalidArgumentError(absl::StrCat(message, " field ", f.number, " has wire type ",
                                                 static_cast<int>(f.type)));
}

// Checks that `f` has wire type `want`.
absl::Status Expect(absl::string_view message, const WireField& f, WireType want) {
  return f.type == want ? absl::OkStatus() : WrongType(message, f);
}

absl::StatusOr<SpmPiece> ParsePiece(absl::string_view bytes) {
  SpmPiece piece;
  WireReader reader(bytes);
  while (!reader.AtEnd()) {
    ASSIGN_OR_RETURN(WireField f, reader.Next());
    switch (f.number) {
      case 1:
        RETURN_IF_ERROR(Expect("SentencePiece", f, WireType::kLengthDelimited));
        piece.piece = std::string(f.bytes);
        break;
      case 2:
        RETURN_IF_ERROR(Expect("SentencePiece", f, WireType::kFixed32));
        piece.score = f.AsFloat();
        break;
      case 3: {
        RETURN_IF_ERROR(Expect("SentencePiece", f, WireType::kVarint));
        const int32_t type = f.AsInt32();
        if (type < static_cast<int32_t>(PieceType::kNormal) ||
            type > static_cast<int32_t>(PieceType::kByte)) {
          return absl::InvalidArgumentError(absl::StrCat("unknown piece type ", type));
        }
        piece.type = static_cast<PieceType>(type);
        break;
      }
      default:
        break;
    }
  }
  return piece;
}

absl::Status ParseTrainerSpec(absl::string_view bytes, SpmTrainerSpec* spec) {
  WireReader reader(bytes);
  while (!reader.AtEnd()) {
    ASSIGN_OR_RETURN(WireField f, reader.Next());
    int32_t* id = nullptr;
    bool* flag = nullptr;
    switch (f.number) {
      case 3: id = &spec->model_type; break;
      case 24: flag = &spec->treat_whitespace_as_suffix; break;
      case 35: flag = &spec->byte_fallback; break;
      case 40: id = &spec->unk_id; break;
      case 41: id = &spec->bos_id; break;
      case 42: id = &spec->eos_id; break;
      case 43: id = &spec->pad_id; break;
      default: continue;
    }
    RETURN_IF_ERROR(Expect("TrainerSpec", f, WireType::kVarint));
    if (id != nullptr) *id = f.AsInt32();
    if (flag != nullptr) *flag = f.AsBool();
  }
  return absl::OkStatus();
}

absl::Status ParseNormalizerSpec(absl::string_view bytes, SpmNormalizerSpec* spec) {
  WireReader reader(bytes);
  while (!reader.AtEnd()) {
    ASSIGN_OR_RETURN(WireField f, reader.Next());
    bool* flag = nullptr;
    switch (f.number) {
      case 1:
        RETURN_IF_ERROR(Expect("NormalizerSpec", f, WireType::kLengthDelimited));
        spec->name = std::string(f.bytes);
        continue;
      case 2:
        RETURN_IF_ERROR(Expect("NormalizerSpec", f, WireType::kLengthDelimited));
        spec->has_precompiled_charsmap = !f.bytes.empty();
        continue;
      case 3: flag = &spec->add_dummy_prefix; break;
      case 4: flag = &spec->remove_extra_whitespaces; break;
      case 5: flag = &spec->escape_whitespaces; break;
      default: continue;
    }
    RETURN_IF_ERROR(Expect("NormalizerSpec", f, WireType::kVarint));
    *flag = f.AsBool();
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SpmModel> ParseSpmModel(absl::string_view bytes) {
  SpmModel model;
  WireReader reader(bytes);
  while (!reader.AtEnd()) {
    ASSIGN_OR_RETURN(WireField f, reader.Next());
    if (f.number < 1 || f.number > 3) continue;
    RETURN_IF_ERROR(Expect("ModelProto", f, WireType::kLengthDelimited));
    if (f.number == 1) {
      absl::StatusOr<SpmPiece> piece = ParsePiece(f.bytes);
      if (!piece.ok()) {
        return absl::InvalidArgumentError(
            absl::StrCat("piece ", model.pieces.size(), ": ", piece.status().message()));
      }
      model.pieces.push_back(*std::move(piece));
    } else if (f.number == 2) {
      RETURN_IF_ERROR(ParseTrainerSpec(f.bytes, &model.trainer));
    } else {
      RETURN_IF_ERROR(ParseNormalizerSpec(f.bytes, &model.normalizer));
    }
  }
  return model;
}

}  // namespace mivla::tokenizer::internal
