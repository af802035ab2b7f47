#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "core/tokenizer/spm_model.h"
#include "core/tokenizer/unigram_encoder.h"
#include "core/util/read_file.h"
#include "core/util/status_prefix.h"

namespace mivla::tokenizer {
namespace {

using internal::PieceType;

bool PieceIs(const internal::UnigramEncoder& enc, int64_t id, PieceType type) {
  return id >= 0 && id < enc.vocab_size() && enc.pieces()[static_cast<size_t>(id)].type == type;
}

}  // namespace

Tokenizer::Tokenizer(std::string serialized, std::unique_ptr<internal::UnigramEncoder> encoder)
    : serialized_(std::move(serialized)), encoder_(std::move(encoder)) {}

Tokenizer::~Tokenizer() = default;

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromSerializedModel(std::string bytes) {
  absl::StatusOr<internal::SpmModel> model = internal::ParseSpmModel(bytes);
  if (!model.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("not a SentencePiece model (", bytes.size(),
                                                   " bytes): ", model.status().message()));
  }
  absl::StatusOr<std::unique_ptr<internal::UnigramEncoder>> enc =
      internal::UnigramEncoder::Create(*model);
  if (!enc.ok()) return enc.status();
  const internal::SpmTrainerSpec& t = model->trainer;
  const internal::UnigramEncoder& e = **enc;
  if (t.pad_id != kPadId || t.eos_id != kEosId || t.unk_id != kUnkId || t.bos_id != -1 ||
      e.unk_id() != kUnkId || !PieceIs(e, kPadId, PieceType::kControl) ||
      !PieceIs(e, kEosId, PieceType::kControl)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentencePiece model has special ids pad ", t.pad_id, ", eos ", t.eos_id, ", unk ", t.unk_id,
        ", bos ", t.bos_id, " (UNKNOWN piece at ", e.unk_id(),
        "); expected pad 0, eos 1, unk 2 and no bos (-1), with pad and eos CONTROL pieces"));
  }
  return std::unique_ptr<Tokenizer>(new Tokenizer(std::move(bytes), *std::move(enc)));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::FromFile(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) {
    return WithPrefix(bytes.status(), "tokenizer model: ");
  }
  absl::StatusOr<std::unique_ptr<Tokenizer>> tok = FromSerializedModel(*std::move(bytes));
  if (!tok.ok()) {
    return WithPrefix(tok.status(), absl::StrCat(path, ": "));
  }
  return tok;
}

std::vector<int64_t> Tokenizer::Encode(const std::string& text, int max_tokens) const {
  const std::vector<int> pieces = encoder_->Encode(text);
  size_t keep = pieces.size();
  if (max_tokens > 0) keep = std::min(keep, static_cast<size_t>(max_tokens) - 1);
  std::vector<int64_t> ids(pieces.begin(), pieces.begin() + static_cast<std::ptrdiff_t>(keep));
  ids.push_back(kEosId);
  return ids;
}

std::string Tokenizer::Decode(const std::vector<int64_t>& ids) const { return encoder_->Decode(ids); }

int Tokenizer::vocab_size() const { return encoder_->vocab_size(); }

}  // namespace mivla::tokenizer
