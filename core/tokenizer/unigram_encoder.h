// File: unigram_encoder.h
// SentencePiece unigram segmentation (Viterbi over the pieces' log-probabilities), written here so the
// runtime does not link libsentencepiece (whose bundled protobuf symbols crash processes that also
// load libprotobuf).
//
//   ASSIGN_OR_RETURN(SpmModel model, ParseSpmModel(bytes));
//   ASSIGN_OR_RETURN(std::unique_ptr<UnigramEncoder> enc, UnigramEncoder::Create(model));
//   std::vector<int> ids = enc->Encode("press the bell");   // piece ids, no EOS
//
// Encode normalises (text_normalizer.h) and then picks, over UTF-8 characters, the segmentation with
// the highest total score, as SentencePiece 0.1.97's optimised unigram encoder does (same tie-breaking,
// same float arithmetic): NORMAL pieces score their log-probability, USER_DEFINED pieces
// length * max_score - 0.1, CONTROL / UNUSED / UNKNOWN / BYTE pieces are never matched from text. A
// character that no single-character piece covers is an unknown token scored min_score - 10; runs of
// unknown tokens merge into one unk id. The ids equal `spm_encode --output_format=id` on the same
// normalised input.
//
// Thread-safety: immutable after Create; const methods may be called concurrently.
#ifndef MIVLA_CORE_TOKENIZER_UNIGRAM_ENCODER_H_
#define MIVLA_CORE_TOKENIZER_UNIGRAM_ENCODER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "core/tokenizer/spm_model.h"
#include "core/tokenizer/text_normalizer.h"

namespace mivla::tokenizer::internal {

class UnigramEncoder {
 public:
  /// INVALID_ARGUMENT, saying why, unless the model is a unigram model with the `identity`
  /// normaliser (no precompiled charsmap), no byte fallback, whitespace as prefix, exactly one UNKNOWN
  /// piece, no empty or duplicate pieces and finite scores.
  static absl::StatusOr<std::unique_ptr<UnigramEncoder>> Create(const SpmModel& model);

  /// Piece ids of `text` (no special ids added); empty for empty or all-whitespace text. Never fails.
  std::vector<int> Encode(absl::string_view text) const;
  /// Concatenated pieces of NORMAL / USER_DEFINED / UNUSED ids with "▁" as space and the dummy-prefix
  /// space dropped; every other id (unknown, control, byte, out of range) is skipped.
  std::string Decode(const std::vector<int64_t>& ids) const;

  int vocab_size() const { return static_cast<int>(pieces_.size()); }
  int unk_id() const { return unk_id_; }
  const std::vector<SpmPiece>& pieces() const { return pieces_; }

 private:
  UnigramEncoder(const SpmModel& model, int unk_id);
  void AddToTrie(const std::string& piece, int id);
  // The trie child of `node` along byte `b`, or -1.
  int Child(int node, unsigned char b) const;

  std::vector<SpmPiece> pieces_;
  TextNormalizer normalizer_;
  bool add_dummy_prefix_;
  int unk_id_;
  float min_score_ = 0.0f;
  float max_score_ = 0.0f;
  // Byte trie over the matchable pieces: node 0 is the root; node_piece_[n] is the id ending there or
  // -1; children_ maps (node << 8 | byte) to the child node.
  std::vector<int> node_piece_;
  std::unordered_map<uint64_t, int> children_;
};

}  // namespace mivla::tokenizer::internal

#endif  // MIVLA_CORE_TOKENIZER_UNIGRAM_ENCODER_H_
