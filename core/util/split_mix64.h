// File: split_mix64.h
// SplitMix64's output function (Steele, Lea, Flood 2014): a bijective 64-bit mix used to derive
// independent seeds from (seed, index) pairs the same way on every platform, e.g.
//   uint64_t s = SplitMix64(seed ^ SplitMix64(step));
// SplitMix64(0) is 0xe220a8397b1dcdaf, the first output of the SplitMix64 generator seeded with 0.
// Pure function; thread-safe.
#ifndef MIVLA_CORE_UTIL_SPLIT_MIX64_H_
#define MIVLA_CORE_UTIL_SPLIT_MIX64_H_

#include <cstdint>

namespace mivla {

constexpr uint64_t SplitMix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

}  // namespace mivla

#endif  // MIVLA_CORE_UTIL_SPLIT_MIX64_H_
