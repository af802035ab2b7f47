// File: text_normalizer.h
// Instruction text -> the normalised string a SentencePiece model with the `identity` rule tokenises.
//
// The bundled model is trained on an ASCII-lower-cased corpus with --normalization_rule_name=identity
// (scripts/train-tokenizer.sh), so the runtime needs no precompiled charsmap. Normalize(text):
//   1. pre-processing of our own (what the training corpus went through): ASCII A-Z -> a-z, and the
//      ASCII whitespace \t \n \v \f \r -> ' '. Non-ASCII letters are NOT case-folded (the vocabulary
//      is ASCII, so they are unknown characters whichever their case).
//   2. each invalid UTF-8 byte -> U+FFFD (as SentencePiece's normaliser does: one per byte);
//   3. SentencePiece's own steps with the model's NormalizerSpec flags: remove_extra_whitespaces drops
//      leading and trailing spaces and collapses runs of spaces to one; add_dummy_prefix puts one
//      space in front of non-empty text; escape_whitespaces writes every space as U+2581 "▁".
// After step 1, steps 2-3 give byte-for-byte what spm_encode produces for the same (lower-case,
// tab-free) line, so the ids match Debian's reference implementation.
//
// Thread-safety: immutable; Normalize may be called concurrently.
#ifndef MIVLA_CORE_TOKENIZER_TEXT_NORMALIZER_H_
#define MIVLA_CORE_TOKENIZER_TEXT_NORMALIZER_H_

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "core/tokenizer/spm_model.h"

namespace mivla::tokenizer::internal {

/// U+2581 LOWER ONE EIGHTH BLOCK, SentencePiece's visible space.
inline constexpr char kSpaceSymbol[] = "\xE2\x96\x81";

/// Byte length (1-4) of the well-formed UTF-8 character starting at s[pos], or 0 when the bytes there
/// are not one (overlong forms, surrogates, > U+10FFFF, truncated sequences, stray continuation bytes).
/// Requires pos < s.size().
size_t Utf8CharLength(absl::string_view s, size_t pos);

class TextNormalizer {
 public:
  explicit TextNormalizer(const SpmNormalizerSpec& spec)
      : add_dummy_prefix_(spec.add_dummy_prefix),
        remove_extra_whitespaces_(spec.remove_extra_whitespaces),
        escape_whitespaces_(spec.escape_whitespaces) {}

  /// The normalised text (valid UTF-8); empty when `text` holds nothing but whitespace.
  std::string Normalize(absl::string_view text) const;

 private:
  bool add_dummy_prefix_;
  bool remove_extra_whitespaces_;
  bool escape_whitespaces_;
};

}  // namespace mivla::tokenizer::internal

#endif  // MIVLA_CORE_TOKENIZER_TEXT_NORMALIZER_H_
