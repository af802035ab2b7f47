// Fuzzes the image header readers and checks them against OpenCV's decoders: whenever a header is
// accepted and small enough to decode here, the decoded image must not hold more pixels than the
// header claims (the server's memory bound rests on that), and a JPEG or PNG the reader refuses never
// reaches a decoder in the server, so only accepted ones are decoded.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <opencv2/imgcodecs.hpp>

#include "server/inference/image_header.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (int kind = 0; kind < 2; ++kind) {
    absl::StatusOr<mivla::server::ImageDims> dims =
        kind == 0 ? mivla::server::ReadJpegHeader(bytes) : mivla::server::ReadPngHeader(bytes);
    if (!dims.ok()) continue;
    if (dims->width <= 0 || dims->height <= 0) std::abort();
    if (dims->width * dims->height > 64 * 64) continue;  // decode small images only
    cv::Mat buf(1, static_cast<int>(size), CV_8UC1, const_cast<uint8_t*>(data));
    cv::Mat img;
    try {
      img = cv::imdecode(buf, cv::IMREAD_COLOR);
    } catch (const cv::Exception&) {
      continue;
    }
    if (!img.empty() && static_cast<int64_t>(img.cols) * img.rows > dims->width * dims->height) std::abort();
  }
  return 0;
}
