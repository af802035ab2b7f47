// File: hostile_images.h
// Test and benchmark helper: the encoded images of a hostile client ("decompression bombs"), built
// without ever holding the decoded pixels:
// - JpegClaiming: a small valid JPEG whose frame header is rewritten to claim width x height (a few
//   hundred bytes; libjpeg would decode it to width x height x 3 bytes, padding the missing data).
// - ZeroPng: a real, valid 8-bit RGB PNG of width x height black pixels (zlib stream of repeated
//   full-flush blocks, so 30000 x 30000 is about 2.7 MB and takes milliseconds to build).
#ifndef MIVLA_SERVER_INFERENCE_HOSTILE_IMAGES_H_
#define MIVLA_SERVER_INFERENCE_HOSTILE_IMAGES_H_

#include <string>

namespace mivla::server::testing {

std::string JpegClaiming(int width, int height);
std::string ZeroPng(int width, int height);

}  // namespace mivla::server::testing

#endif  // MIVLA_SERVER_INFERENCE_HOSTILE_IMAGES_H_
