#include "server/inference/image_checks.h"

#include "absl/strings/str_cat.h"
#include "server/inference/string_checks.h"

namespace mivla::server {
namespace {

absl::Status Invalid(const std::string& field, const std::string& why) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", why));
}

}  // namespace

absl::StatusOr<ImageDims> CheckedImageDims(const mivla::v1::Image& im, const std::string& f,
                                           const InputLimits& limits) {
  if (im.data().empty()) return Invalid(f + ".data", "empty");
  if (im.data().size() > limits.max_image_bytes) {
    return Invalid(f + ".data", absl::StrCat(im.data().size(), " bytes; at most ", limits.max_image_bytes));
  }
  ImageDims dims;
  const char* kind = "RAW_RGB8";
  switch (im.encoding()) {
    case mivla::v1::JPEG:
    case mivla::v1::PNG: {
      kind = im.encoding() == mivla::v1::JPEG ? "JPEG" : "PNG";
      absl::StatusOr<ImageDims> h = im.encoding() == mivla::v1::JPEG ? ReadJpegHeader(im.data()) : ReadPngHeader(im.data());
      if (!h.ok()) return Invalid(f + ".data", std::string(h.status().message()));
      dims = *h;
      if ((im.width() != 0 && im.width() != dims.width) || (im.height() != 0 && im.height() != dims.height)) {
        return Invalid(f, absl::StrCat("declared ", im.width(), "x", im.height(), " but the ", kind, " header says ",
                                       dims.width, "x", dims.height));
      }
      break;
    }
    case mivla::v1::RAW_RGB8:
      if (im.width() == 0 || im.height() == 0) return Invalid(f, "RAW_RGB8 needs width and height");
      dims = {im.width(), im.height()};
      break;
    default:
      return Invalid(f + ".encoding", absl::StrCat("unsupported encoding ", static_cast<int>(im.encoding())));
  }
  if (dims.width > limits.max_image_side || dims.height > limits.max_image_side) {
    return Invalid(f, absl::StrCat(kind, " size ", dims.width, "x", dims.height, " exceeds ", limits.max_image_side,
                                   " pixels per side (--max-image-side)"));
  }
  if (dims.width * dims.height > limits.max_image_pixels) {
    return Invalid(f, absl::StrCat(kind, " size ", dims.width, "x", dims.height, " exceeds ", limits.max_image_pixels,
                                   " pixels (--max-image-pixels)"));
  }
  if (im.encoding() == mivla::v1::RAW_RGB8 &&
      im.data().size() != static_cast<size_t>(dims.width) * static_cast<size_t>(dims.height) * 3) {
    return Invalid(f + ".data", absl::StrCat(im.data().size(), " bytes for a ", dims.width, "x", dims.height,
                                             " RAW_RGB8 image (expected ", dims.width * dims.height * 3, ")"));
  }
  return dims;
}

absl::Status CheckImage(const mivla::v1::Image& im, const std::string& camera, int declared_width,
                        int declared_height, const std::string& f, const InputLimits& limits) {
  if (im.camera() != camera) {
    return Invalid(f + ".camera", absl::StrCat("'", ClipForEcho(im.camera(), limits.max_echo_bytes),
                                               "' but the session's camera here is '", camera, "'"));
  }
  absl::StatusOr<ImageDims> dims = CheckedImageDims(im, f, limits);
  if (!dims.ok()) return dims.status();
  if (declared_width > 0 && declared_height > 0 &&
      (dims->width != declared_width || dims->height != declared_height)) {
    return Invalid(f, absl::StrCat("image is ", dims->width, "x", dims->height, " but the session declared camera '",
                                   camera, "' as ", declared_width, "x", declared_height));
  }
  return absl::OkStatus();
}

}  // namespace mivla::server
