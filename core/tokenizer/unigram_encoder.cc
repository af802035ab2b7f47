#include "core/tokenizer/unigram_encoder.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <unordered_set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace mivla::tokenizer::internal {
namespace {

// SentencePiece's penalty for unknown characters (unigram_model.h, kUnkPenalty).
constexpr float kUnkPenalty = 10.0f;

bool IsMatchable(PieceType t) { return t == PieceType::kNormal || t == PieceType::kUserDefined; }

absl::Status ValidateModel(const SpmModel& model, int* unk_id) {
  if (model.trainer.model_type != kModelTypeUnigram) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentencePiece model_type is ", model.trainer.model_type,
        " (2 BPE, 3 WORD, 4 CHAR); only UNIGRAM (1) models are supported"));
  }
  const SpmNormalizerSpec& norm = model.normalizer;
  if (norm.name != "identity" || norm.has_precompiled_charsmap) {
    return absl::InvalidArgumentError(absl::StrCat(
        "SentencePiece normalizer is '", norm.name, "'",
        norm.has_precompiled_charsmap ? " with a precompiled charsmap" : "",
        "; only 'identity' is supported (train with --normalization_rule_name=identity on a "
        "lower-cased corpus, as scripts/train-tokenizer.sh does)"));
  }
  if (model.trainer.byte_fallback) {
    return absl::InvalidArgumentError("SentencePiece models with byte_fallback are not supported");
  }
  if (model.trainer.treat_whitespace_as_suffix) {
    return absl::InvalidArgumentError(
        "SentencePiece models with treat_whitespace_as_suffix are not supported");
  }
  if (model.pieces.empty()) return absl::InvalidArgumentError("SentencePiece model has no pieces");
  *unk_id = -1;
  std::unordered_set<std::string> seen;
  for (size_t i = 0; i < model.pieces.size(); ++i) {
    const SpmPiece& p = model.pieces[i];
    if (p.piece.empty()) return absl::InvalidArgumentError(absl::StrCat("piece ", i, " is empty"));
    if (!std::isfinite(p.score)) {
      return absl::InvalidArgumentError(absl::StrCat("piece ", i, " has a non-finite score"));
    }
    if (p.type == PieceType::kByte) {
      return absl::InvalidArgumentError(absl::StrCat("piece ", i, " is a BYTE piece"));
    }
    if (p.type == PieceType::kUnknown) {
      if (*unk_id >= 0) return absl::InvalidArgumentError("more than one UNKNOWN piece");
      *unk_id = static_cast<int>(i);
    }
    if (IsMatchable(p.type) || p.type == PieceType::kUnused) {
      if (!seen.insert(p.piece).second) {
        return absl::InvalidArgumentError(absl::StrCat("piece '", p.piece, "' is defined twice"));
      }
    }
  }
  if (*unk_id < 0) return absl::InvalidArgumentError("SentencePiece model has no UNKNOWN piece");
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<UnigramEncoder>> UnigramEncoder::Create(const SpmModel& model) {
  int unk_id = -1;
  absl::Status status = ValidateModel(model, &unk_id);
  if (!status.ok()) return status;
  return std::unique_ptr<UnigramEncoder>(new UnigramEncoder(model, unk_id));
}

UnigramEncoder::UnigramEncoder(const SpmModel& model, int unk_id)
    : pieces_(model.pieces),
      normalizer_(model.normalizer),
      add_dummy_prefix_(model.normalizer.add_dummy_prefix),
      unk_id_(unk_id) {
  // As SentencePiece: min/max over NORMAL pieces, max starting at FLT_MIN and 0 when none exceeds it.
  float min_score = FLT_MAX;
  float max_score = FLT_MIN;
  node_piece_.push_back(-1);
  for (size_t i = 0; i < pieces_.size(); ++i) {
    const SpmPiece& p = pieces_[i];
    if (p.type == PieceType::kNormal) {
      min_score = std::min(min_score, p.score);
      max_score = std::max(max_score, p.score);
    }
    if (IsMatchable(p.type)) AddToTrie(p.piece, static_cast<int>(i));
  }
  min_score_ = min_score == FLT_MAX ? 0.0f : min_score;
  max_score_ = max_score == FLT_MIN ? 0.0f : max_score;
}

void UnigramEncoder::AddToTrie(const std::string& piece, int id) {
  int node = 0;
  for (char c : piece) {
    const uint64_t key = (static_cast<uint64_t>(node) << 8) | static_cast<unsigned char>(c);
    auto it = children_.find(key);
    if (it == children_.end()) {
      it = children_.emplace(key, static_cast<int>(node_piece_.size())).first;
      node_piece_.push_back(-1);
    }
    node = it->second;
  }
  node_piece_[node] = id;
}

int UnigramEncoder::Child(int node, unsigned char b) const {
  auto it = children_.find((static_cast<uint64_t>(node) << 8) | b);
  return it == children_.end() ? -1 : it->second;
}

std::vector<int> UnigramEncoder::Encode(absl::string_view text) const {
  const std::string norm = normalizer_.Normalize(text);
  const size_t size = norm.size();
  struct BestPath {  // the best segmentation of norm[0, end) ends with piece `id` = norm[start, end)
    int id = -1;
    float score = 0.0f;
    long start = -1;
  };
  std::vector<BestPath> best(size + 1);
  const float unk_score = min_score_ - kUnkPenalty;
  size_t start = 0;
  while (start < size) {
    const float score_here = best[start].score;
    size_t char_len = Utf8CharLength(norm, start);  // norm is valid UTF-8; 0 cannot happen
    if (char_len == 0) char_len = 1;
    bool has_single_char_piece = false;
    int node = 0;
    for (size_t end = start; end < size;) {
      node = Child(node, static_cast<unsigned char>(norm[end]));
      if (node < 0) break;
      ++end;
      const int id = node_piece_[node];
      if (id < 0) continue;
      const size_t length = end - start;
      // Same types as SentencePiece: the candidate is computed in double, stored as float.
      const double piece_score = pieces_[id].type == PieceType::kUserDefined
                                     ? static_cast<double>(length * max_score_) - 0.1
                                     : static_cast<double>(pieces_[id].score);
      const double candidate = piece_score + score_here;
      BestPath& target = best[end];
      if (target.start < 0 || candidate > target.score) {
        target = {id, static_cast<float>(candidate), static_cast<long>(start)};
      }
      if (length == char_len) has_single_char_piece = true;
    }
    if (!has_single_char_piece) {
      const float candidate = unk_score + score_here;
      BestPath& target = best[start + char_len];
      if (target.start < 0 || candidate > target.score) {
        target = {unk_id_, candidate, static_cast<long>(start)};
      }
    }
    start += char_len;
  }
  std::vector<int> reversed;
  for (size_t end = size; end > 0; end = static_cast<size_t>(best[end].start)) {
    reversed.push_back(best[end].id);
  }
  std::vector<int> ids;
  ids.reserve(reversed.size());
  for (auto it = reversed.rbegin(); it != reversed.rend(); ++it) {
    if (*it == unk_id_ && !ids.empty() && ids.back() == unk_id_) continue;  // merge unknown runs
    ids.push_back(*it);
  }
  return ids;
}

std::string UnigramEncoder::Decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (int64_t id : ids) {
    if (id < 0 || id >= vocab_size()) continue;
    const SpmPiece& p = pieces_[static_cast<size_t>(id)];
    if (!IsMatchable(p.type) && p.type != PieceType::kUnused) continue;
    absl::string_view piece = p.piece;
    for (size_t pos = 0; pos < piece.size();) {
      if (piece.substr(pos, 3) == kSpaceSymbol) {
        text.push_back(' ');
        pos += 3;
      } else {
        text.push_back(piece[pos++]);
      }
    }
  }
  if (add_dummy_prefix_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
  return text;
}

}  // namespace mivla::tokenizer::internal
