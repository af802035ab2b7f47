// Includes sentencepiece and must not include any Abseil header (see spm_processor.h).
#include "core/tokenizer/spm_processor.h"

#include <sentencepiece_processor.h>

#include <utility>

namespace mivla::tokenizer::internal {

SpmProcessor::SpmProcessor(std::unique_ptr<sentencepiece::SentencePieceProcessor> sp)
    : sp_(std::move(sp)) {}

SpmProcessor::~SpmProcessor() = default;

std::unique_ptr<SpmProcessor> SpmProcessor::Load(const std::string& serialized, std::string* error) {
  auto sp = std::make_unique<sentencepiece::SentencePieceProcessor>();
  sentencepiece::util::Status status = sp->LoadFromSerializedProto(serialized);
  if (!status.ok()) {
    *error = status.ToString();
    return nullptr;
  }
  if (sp->GetPieceSize() <= 0) {
    *error = "model has no pieces";
    return nullptr;
  }
  return std::unique_ptr<SpmProcessor>(new SpmProcessor(std::move(sp)));
}

bool SpmProcessor::Encode(const std::string& text, std::vector<int>* ids, std::string* error) const {
  sentencepiece::util::Status status = sp_->Encode(text, ids);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

bool SpmProcessor::Decode(const std::vector<int>& ids, std::string* text, std::string* error) const {
  sentencepiece::util::Status status = sp_->Decode(ids, text);
  if (!status.ok()) *error = status.ToString();
  return status.ok();
}

int SpmProcessor::vocab_size() const { return sp_->GetPieceSize(); }
int SpmProcessor::pad_id() const { return sp_->pad_id(); }
int SpmProcessor::eos_id() const { return sp_->eos_id(); }
int SpmProcessor::unk_id() const { return sp_->unk_id(); }
int SpmProcessor::bos_id() const { return sp_->bos_id(); }

}  // namespace mivla::tokenizer::internal
