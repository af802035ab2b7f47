// File: spm_processor.h
// Internal to the tokenizer: a narrow, Abseil-free wrapper around sentencepiece::SentencePieceProcessor.
//
// Why it exists: Debian's sentencepiece header declares `namespace absl { using std::string_view; }`,
// which clashes with Debian's Abseil (whose absl::string_view is its own class), so the two headers
// cannot meet in one translation unit. Only spm_processor.cc includes sentencepiece; this header uses
// the standard library alone, and errors travel as strings.
//
// Thread-safety: immutable after Load; const methods may be called concurrently.
#ifndef MIVLA_CORE_TOKENIZER_SPM_PROCESSOR_H_
#define MIVLA_CORE_TOKENIZER_SPM_PROCESSOR_H_

#include <memory>
#include <string>
#include <vector>

namespace sentencepiece {
class SentencePieceProcessor;
}  // namespace sentencepiece

namespace mivla::tokenizer::internal {

class SpmProcessor {
 public:
  /// Parses a serialized ModelProto. On failure returns nullptr and sets *error.
  static std::unique_ptr<SpmProcessor> Load(const std::string& serialized, std::string* error);
  ~SpmProcessor();

  /// Piece ids of `text`, without any special ids added. False (and *error) on failure.
  bool Encode(const std::string& text, std::vector<int>* ids, std::string* error) const;
  /// Text of `ids`; every id must lie in [0, vocab_size()). False (and *error) on failure.
  bool Decode(const std::vector<int>& ids, std::string* text, std::string* error) const;

  int vocab_size() const;
  int pad_id() const;  // -1 when the model has none (and likewise below)
  int eos_id() const;
  int unk_id() const;
  int bos_id() const;

 private:
  explicit SpmProcessor(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp);
  std::unique_ptr<sentencepiece::SentencePieceProcessor> sp_;
};

}  // namespace mivla::tokenizer::internal

#endif  // MIVLA_CORE_TOKENIZER_SPM_PROCESSOR_H_
