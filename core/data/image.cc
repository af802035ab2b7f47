#include "core/data/image.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "opencv2/core.hpp"
#include "opencv2/imgcodecs.hpp"
#include "opencv2/imgproc.hpp"

namespace mivla::data {

RgbImage RgbImage::Solid(int width, int height, uint8_t r, uint8_t g, uint8_t b) {
  RgbImage img;
  img.width = width;
  img.height = height;
  img.rgb.resize(static_cast<size_t>(width) * height * 3);
  for (size_t i = 0; i < img.rgb.size(); i += 3) {
    img.rgb[i] = r;
    img.rgb[i + 1] = g;
    img.rgb[i + 2] = b;
  }
  return img;
}

absl::StatusOr<std::string> EncodeJpeg(const RgbImage& image, JpegChannelOrder order, int quality) {
  if (!image.valid()) {
    return absl::InvalidArgumentError(absl::StrCat("image ", image.width, "x", image.height, " holds ",
                                                   image.rgb.size(), " bytes, not width*height*3"));
  }
  // OpenCV's encoder reads its input as B, G, R.
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
  cv::Mat input;
  if (order == JpegChannelOrder::kStandard) {
    cv::cvtColor(rgb, input, cv::COLOR_RGB2BGR);
  } else {
    input = rgb;  // RoboTwin: RGB memory straight into the BGR encoder
  }
  std::vector<uint8_t> buf;
  if (!cv::imencode(".jpg", input, buf, {cv::IMWRITE_JPEG_QUALITY, std::clamp(quality, 1, 100)})) {
    return absl::InternalError("JPEG encoding failed");
  }
  return std::string(buf.begin(), buf.end());
}

absl::StatusOr<RgbImage> DecodeJpeg(const std::string& bytes, JpegChannelOrder order) {
  size_t n = bytes.size();
  while (n > 0 && bytes[n - 1] == '\0') --n;
  if (n == 0) return absl::DataLossError("empty image bytes");
  cv::Mat raw(1, static_cast<int>(n), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat decoded;
  try {
    decoded = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return absl::DataLossError(absl::StrCat("image bytes do not decode: ", e.what()));
  }
  if (decoded.empty() || decoded.type() != CV_8UC3) {
    return absl::DataLossError(absl::StrCat("image bytes (", n, ") do not decode as JPEG/PNG"));
  }
  cv::Mat out;
  if (order == JpegChannelOrder::kStandard) {
    cv::cvtColor(decoded, out, cv::COLOR_BGR2RGB);
  } else {
    out = decoded;  // RoboTwin: what OpenCV calls BGR is the original RGB
  }
  RgbImage img;
  img.width = out.cols;
  img.height = out.rows;
  img.rgb.resize(static_cast<size_t>(out.cols) * out.rows * 3);
  for (int y = 0; y < out.rows; ++y) {
    std::copy(out.ptr<uint8_t>(y), out.ptr<uint8_t>(y) + out.cols * 3, img.rgb.data() + static_cast<size_t>(y) * out.cols * 3);
  }
  return img;
}

std::array<double, 3> MeanRgb(const RgbImage& image) {
  std::array<double, 3> sum{0, 0, 0};
  if (!image.valid()) return sum;
  for (size_t i = 0; i < image.rgb.size(); i += 3) {
    for (int c = 0; c < 3; ++c) sum[c] += image.rgb[i + c];
  }
  const double n = static_cast<double>(image.width) * image.height;
  for (double& s : sum) s /= n;
  return sum;
}

int MaxAbsDiff(const RgbImage& a, const RgbImage& b) {
  if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size()) return 255;
  int m = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) m = std::max(m, std::abs(int{a.rgb[i]} - int{b.rgb[i]}));
  return m;
}

double MeanAbsDiff(const RgbImage& a, const RgbImage& b) {
  if (a.width != b.width || a.height != b.height || a.rgb.size() != b.rgb.size()) return 255;
  if (a.rgb.empty()) return 0;
  double s = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) s += std::abs(int{a.rgb[i]} - int{b.rgb[i]});
  return s / static_cast<double>(a.rgb.size());
}

}  // namespace mivla::data
