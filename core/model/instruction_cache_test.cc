#include "core/model/instruction_cache.h"

#include <thread>
#include <vector>

#include <torch/torch.h>

#include "gtest/gtest.h"

namespace mivla::model {
namespace {

EncodedInstruction Make(float v) { return {torch::full({3, 4}, v), torch::ones({3}, torch::kBool)}; }

TEST(InstructionCacheTest, HitMissAndLruEviction) {
  InstructionCache cache({/*capacity=*/2});
  EXPECT_FALSE(cache.Lookup("a").has_value());
  cache.Insert("a", Make(1));
  cache.Insert("b", Make(2));
  ASSERT_TRUE(cache.Lookup("a").has_value());  // a is now most recent
  cache.Insert("c", Make(3));                  // evicts b
  EXPECT_FALSE(cache.Lookup("b").has_value());
  auto a = cache.Lookup("a");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->tokens[0][0].item<float>(), 1.0f);
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_EQ(cache.hits(), 2);
  EXPECT_EQ(cache.misses(), 2);
  cache.Insert("a", Make(5));  // replace
  EXPECT_EQ(cache.Lookup("a")->tokens[0][0].item<float>(), 5.0f);
  cache.Clear();
  EXPECT_EQ(cache.size(), 0u);
}

TEST(InstructionCacheTest, ConcurrentUseKeepsBound) {
  InstructionCache cache({/*capacity=*/16});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&cache, t] {
      for (int i = 0; i < 500; ++i) {
        std::string key = "k" + std::to_string((i * 7 + t) % 40);
        if (!cache.Lookup(key)) cache.Insert(key, Make(static_cast<float>(i)));
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_LE(cache.size(), 16u);
  EXPECT_EQ(cache.hits() + cache.misses(), 2000);
}

}  // namespace
}  // namespace mivla::model
