#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/spm_processor.h"

namespace mivla::tokenizer {

Tokenizer::Tokenizer(std::string serialized, std::unique_ptr<internal::SpmProcessor> processor)
    : serialized_(std::move(serialized)), processor_(std::move(processor)) {}

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromSerializedModel(std::string bytes) {
  std::string error;
  std::unique_ptr<internal::SpmProcessor> p = internal::SpmProcessor::Load(bytes, &error);
  if (p == nullptr) {
    return absl::InvalidArgumentError(
        absl::StrCat("not a SentencePiece model (", bytes.size(), " bytes): ", error));
  }
  if (p->pad_id() != kPadId || p->eos_id() != kEosId || p->unk_id() != kUnkId || p->bos_id() != -1) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentencePiece model has special ids pad ", p->pad_id(), ", eos ", p->eos_id(), ", unk ",
        p->unk_id(), ", bos ", p->bos_id(), "; expected pad 0, eos 1, unk 2 and no bos (-1)"));
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(bytes), std::move(p)));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open tokenizer model ", path));
  }
  std::string bytes;
  char buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) bytes.append(buf, n);
  bool failed = std::ferror(f) != 0;
  std::fclose(f);
  if (failed) return absl::DataLossError(absl::StrCat("cannot read tokenizer model ", path));
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = FromSerializedModel(std::move(bytes));
  if (!tok.ok()) {
    return absl::Status(tok.status().code(), absl::StrCat(path, ": ", tok.status().message()));
  }
  return tok;
}

std::vector<int64_t> Tokenizer::Encode(const std::string& text, int max_tokens) const {
  std::vector<int> pieces;
  std::string error;
  if (!processor_->Encode(text, &pieces, &error)) pieces.assign(1, static_cast<int>(kUnkId));
  size_t keep = pieces.size();
  if (max_tokens > 0) keep = std::min(keep, static_cast<size_t>(max_tokens) - 1);
  std::vector<int64_t> ids(pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  ids.push_back(kEosId);
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int64_t>& ids) const {
  std::vector<int> pieces;
  pieces.reserve(ids.size());
  for (int64_t id : ids) {
    if (id == kPadId || id == kEosId || id < 0 || id >= vocab_size()) continue;
    pieces.push_back(static_cast<int>(id));
  }
  std::string text, error;
  if (!processor_->Decode(pieces, &text, &error)) return std::string();
  return text;
}

int Tokenizer::vocab_size() const { return processor_->vocab_size(); }

}  // namespace mivla::tokenizer
