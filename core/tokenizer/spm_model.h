// File: spm_model.h
// The parts of a serialized SentencePiece ModelProto (sentencepiece_model.proto) the tokenizer needs,
// read with the wire reader of proto_wire_reader.h. Field numbers used:
//   ModelProto      1 pieces (repeated SentencePiece), 2 trainer_spec, 3 normalizer_spec
//   SentencePiece   1 piece, 2 score (float), 3 type (enum Type below)
//   TrainerSpec     3 model_type (1 UNIGRAM, 2 BPE, 3 WORD, 4 CHAR), 24 treat_whitespace_as_suffix,
//                   35 byte_fallback, 40 unk_id, 41 bos_id, 42 eos_id, 43 pad_id
//   NormalizerSpec  1 name, 2 precompiled_charsmap, 3 add_dummy_prefix, 4 remove_extra_whitespaces,
//                   5 escape_whitespaces
// Absent fields take the proto's defaults. Everything else is skipped.
//
// ParseSpmModel only parses: it checks the wire format and field types, not whether the model is one
// the tokenizer supports (see UnigramEncoder::Create and Tokenizer::FromSerializedModel).
// Thread-safety: plain data.
#ifndef MIVLA_CORE_TOKENIZER_SPM_MODEL_H_
#define MIVLA_CORE_TOKENIZER_SPM_MODEL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mivla::tokenizer::internal {

enum class PieceType : int32_t {
  kNormal = 1,
  kUnknown = 2,
  kControl = 3,
  kUserDefined = 4,
  kUnused = 5,
  kByte = 6,
};

inline constexpr int32_t kModelTypeUnigram = 1;

struct SpmPiece {
  std::string piece;
  float score = 0.0f;
  PieceType type = PieceType::kNormal;
};

struct SpmTrainerSpec {
  int32_t model_type = kModelTypeUnigram;
  bool treat_whitespace_as_suffix = false;
  bool byte_fallback = false;
  int32_t unk_id = 0;
  int32_t bos_id = 1;
  int32_t eos_id = 2;
  int32_t pad_id = -1;
};

struct SpmNormalizerSpec {
  std::string name;
  bool has_precompiled_charsmap = false;  // a non-empty charsmap is present
  bool add_dummy_prefix = true;
  bool remove_extra_whitespaces = true;
  bool escape_whitespaces = true;
};

struct SpmModel {
  std::vector<SpmPiece> pieces;  // index = id
  SpmTrainerSpec trainer;
  SpmNormalizerSpec normalizer;
};

/// Parses a serialized ModelProto. INVALID_ARGUMENT when the bytes are not valid wire format, a known
/// field has the wrong wire type, or a piece type is out of range.
absl::StatusOr<SpmModel> ParseSpmModel(absl::string_view bytes);

}  // namespace mivla::tokenizer::internal

#endif  // MIVLA_CORE_TOKENIZER_SPM_MODEL_H_
