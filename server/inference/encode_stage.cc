#include "server/inference/encode_stage.h"

#include <cstring>
#include <opencv2/imgproc.hpp>
#include <utility>

#include "absl/strings/str_cat.h"
#include "core/util/status_prefix.h"
#include "server/inference/image_header.h"
#include "server/inference/observation_input.h"

namespace mivla::server {

cv::Mat ResizeForModel(const cv::Mat& rgb, int side) {
  if (rgb.cols == side && rgb.rows == side) return rgb;
  cv::Mat resized;
  const bool shrink = rgb.cols > side || rgb.rows > side;
  cv::resize(rgb, resized, cv::Size(side, side), 0, 0, shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  return resized;
}

absl::Status DecodeViewForModel(const mivla::v1::ObserveRequest& request, int view, int side, bool pass_jpeg,
                                const InputLimits& limits, RuntimeImage* out) {
  const mivla::v1::Image& image = request.images(view);
  *out = RuntimeImage();
  if (pass_jpeg && image.encoding() == mivla::v1::JPEG) {
    // ValidateObservation read this header (and checked its size against the limits) already.
    absl::StatusOr<ImageDims> dims = ReadJpegHeader(image.data());
    if (!dims.ok()) return WithPrefix(dims.status(), absl::StrCat("images[", view, "].data: "));
    out->width = static_cast<int>(dims->width);
    out->height = static_cast<int>(dims->height);
    out->jpeg = image.data();
    return absl::OkStatus();
  }
  absl::StatusOr<cv::Mat> rgb = DecodeImage(image, absl::StrCat("images[", view, "]"), limits);
  if (!rgb.ok()) return rgb.status();
  cv::Mat resized = ResizeForModel(*rgb, side);
  if (!resized.isContinuous()) resized = resized.clone();
  out->width = resized.cols;
  out->height = resized.rows;
  out->rgb.resize(static_cast<size_t>(out->width) * out->height * 3);
  std::memcpy(out->rgb.data(), resized.data, out->rgb.size());
  return absl::OkStatus();
}

absl::Status DecodeForModel(const mivla::v1::ObserveRequest& request, int side, bool pass_jpeg,
                            const InputLimits& limits, std::vector<RuntimeImage>* out) {
  out->assign(static_cast<size_t>(request.images_size()), RuntimeImage());
  for (int v = 0; v < request.images_size(); ++v) {
    if (absl::Status s = DecodeViewForModel(request, v, side, pass_jpeg, limits, &(*out)[v]); !s.ok()) {
      out->clear();
      return s;
    }
  }
  return absl::OkStatus();
}

std::shared_ptr<RuntimeObservation> BuildObservation(EncodeTask* task) {
  auto obs = std::make_shared<RuntimeObservation>();
  obs->embodiment = task->session->spec().embodiment;
  obs->images = std::move(task->images);
  obs->instruction = task->instruction;
  RawState raw = StateFromProprioception(task->request->proprioception(), obs->embodiment);
  obs->state = raw.values;
  obs->state_mask = raw.mask;
  return obs;
}

}  // namespace mivla::server
