// File: image.h
// RgbImage, the one image type of core/data (8-bit, interleaved R,G,B, row-major, top row first), and
// its JPEG codecs. Pure functions; thread-safe.
//
// JPEG channel order (reference/model-and-data-formats.md section 5): RoboTwin hands RGB arrays to
// cv2.imencode, which takes them for BGR, so its JPEG files hold R and B swapped relative to the JPEG
// standard, and cv2.imdecode returns the RGB array again. `JpegChannelOrder::kRoboTwin` reproduces that
// byte for byte (RGB memory straight into OpenCV's encoder, decoder output taken as RGB);
// `kStandard` writes and reads standard JPEGs (what any RGB-native decoder expects). Mixing them swaps
// red and blue: a solid red frame would come back blue.
#ifndef MIVLA_CORE_DATA_IMAGE_H_
#define MIVLA_CORE_DATA_IMAGE_H_

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace mivla::data {

struct RgbImage {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3 bytes, R, G, B per pixel

  bool empty() const { return width == 0 || height == 0; }
  bool valid() const { return width > 0 && height > 0 && rgb.size() == static_cast<size_t>(width) * height * 3; }
  uint8_t* at(int x, int y) { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
  const uint8_t* at(int x, int y) const { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }

  /// A width x height image filled with one colour.
  static RgbImage Solid(int width, int height, uint8_t r, uint8_t g, uint8_t b);
};

enum class JpegChannelOrder { kStandard, kRoboTwin };

/// Encodes `image` (quality 1..100). InvalidArgument for an inconsistent image.
absl::StatusOr<std::string> EncodeJpeg(const RgbImage& image, JpegChannelOrder order, int quality = 90);
/// Decodes JPEG (or PNG) bytes; trailing zero padding (RoboTwin's fixed-width arrays) is ignored.
/// DataLoss for bytes that do not decode.
absl::StatusOr<RgbImage> DecodeJpeg(const std::string& bytes, JpegChannelOrder order);

/// Mean R, G, B over all pixels (0..255 each); zeros for an empty image.
std::array<double, 3> MeanRgb(const RgbImage& image);
/// Largest absolute per-channel difference between two images of the same size; 255 if sizes differ.
int MaxAbsDiff(const RgbImage& a, const RgbImage& b);
/// Mean absolute per-channel difference; 255 if sizes differ.
double MeanAbsDiff(const RgbImage& a, const RgbImage& b);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_IMAGE_H_
