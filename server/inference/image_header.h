// File: image_header.h
// Reads an encoded image's dimensions from its header without decoding a pixel, so that an image
// whose header claims a huge size (a "decompression bomb": a few hundred bytes of JPEG or a few MB of
// PNG that decode to gigabytes) is refused before any decoder allocates memory:
// - PNG: the signature, then the IHDR chunk that the format requires to come first.
// - JPEG: the start-of-image marker, then marker segments (each skipped by its length) up to the first
//   start-of-frame marker (SOF0..SOF15 except DHT/JPG/DAC), whose height and width are read. Scan data
//   or end-of-image before a frame header, or any byte that is not a marker where one must be, is an
//   error (libjpeg would read the same first frame header; a second one is an error there).
// The signature check also pins the decoder OpenCV picks (it chooses by content, not by the declared
// encoding), so a PNG-declared image can never reach another codec.
// Errors are INVALID_ARGUMENT with the reason (no field name: the caller prefixes it).
// Thread-safe (pure functions); reads only within `data`.
#ifndef MIVLA_SERVER_INFERENCE_IMAGE_HEADER_H_
#define MIVLA_SERVER_INFERENCE_IMAGE_HEADER_H_

#include <cstdint>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"

namespace mivla::server {

struct ImageDims {
  int64_t width = 0;
  int64_t height = 0;
};

absl::StatusOr<ImageDims> ReadPngHeader(absl::string_view data);
absl::StatusOr<ImageDims> ReadJpegHeader(absl::string_view data);

}  // namespace mivla::server

#endif  // MIVLA_SERVER_INFERENCE_IMAGE_HEADER_H_
