#include "server/runtime/staging_buffers.h"

#include <algorithm>
#include <utility>

#include <torch/torch.h>

#include "core/action/action_space.h"
#include "core/model/dit_decoder.h"

namespace mivla::server {

void StagingBuffers::Ensure(const model::ModelConfig& c, int image_size, int rows) {
  const int64_t v = c.max_views, l = c.text.max_tokens, w = c.decoder.width;
  const int64_t nv = v * c.vision_tokens_per_view(), h = c.decoder.action_horizon;
  std::vector<int64_t> key = {v, l, w, nv, h, image_size};
  if (key == key_ && rows <= rows_) return;
  key_ = key;
  rows_ = std::max(rows, rows_);
  ++allocations;
  const int64_t b = rows_, s = image_size, d = action::kActionDim;
  auto f = torch::TensorOptions().dtype(torch::kFloat);
  encode.images = torch::zeros({b, v, 3, s, s}, f);
  encode.view_mask = torch::zeros({b, v}, torch::kBool);
  encode.text_ids = torch::zeros({b, l}, torch::kLong);
  encode.text_mask = torch::zeros({b, l}, torch::kBool);
  encode.state = torch::zeros({b, d}, f);
  encode.state_mask = torch::zeros({b, d}, f);
  encode.embodiment = torch::zeros({b}, torch::kLong);
  decode.vision = torch::zeros({b, nv, w}, f);
  decode.vision_mask = torch::zeros({b, nv}, torch::kBool);
  decode.text = torch::zeros({b, l, w}, f);
  decode.text_mask = torch::zeros({b, l}, torch::kBool);
  decode.prefix = torch::zeros({b, model::DitDecoderImpl::kPrefixTokens, w}, f);
  decode.noise = torch::zeros({b, h, d}, f);
}

std::unique_ptr<StagingBuffers> StagingPool::Acquire() {
  absl::MutexLock lock(&mu_);
  if (free_.empty()) return std::make_unique<StagingBuffers>();
  std::unique_ptr<StagingBuffers> b = std::move(free_.back());
  free_.pop_back();
  released_allocations_ -= b->allocations;
  return b;
}

void StagingPool::Release(std::unique_ptr<StagingBuffers> buffers) {
  absl::MutexLock lock(&mu_);
  released_allocations_ += buffers->allocations;
  free_.push_back(std::move(buffers));
}

int64_t StagingPool::allocations() const {
  absl::MutexLock lock(&mu_);
  return released_allocations_;
}

}  // namespace mivla::server
