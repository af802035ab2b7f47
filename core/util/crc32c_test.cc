#include "core/util/crc32c.h"

#include <string>

#include "gtest/gtest.h"

namespace mivla {
namespace {

TEST(Crc32cTest, KnownVectors) {
  // RFC 3720 appendix B.4 check value and the classic "123456789" check value.
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
}

TEST(Crc32cTest, ExtendEqualsWhole) {
  std::string s = "the quick brown fox jumps over the lazy dog, repeatedly and at length";
  uint32_t whole = Crc32c(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); cut += 7) {
    uint32_t part = Crc32cExtend(Crc32c(s.data(), cut), s.data() + cut, s.size() - cut);
    EXPECT_EQ(part, whole) << "cut at " << cut;
  }
}

TEST(Crc32cTest, SingleBitFlipChangesChecksum) {
  std::string s(1000, 'a');
  uint32_t base = Crc32c(s.data(), s.size());
  for (size_t i = 0; i < s.size(); i += 97) {
    std::string t = s;
    t[i] ^= 0x10;
    EXPECT_NE(Crc32c(t.data(), t.size()), base);
  }
}

}  // namespace
}  // namespace mivla
