#include "core/data/hdf5_file.h"

#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "core/data/test_util.h"

namespace mivla::data {
namespace {

using ::testing::HasSubstr;

TEST(Hdf5FileTest, NumericBytesAndAttributesRoundTrip) {
  const std::string path = testing::MakeTempDir("h5") + "/sub/dir/a.h5";  // parents are created
  {
    auto f = Hdf5File::Create(path);
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE((*f)->WriteNumeric("a/b/c", {2, 3}, {1, 2, 3, 4, 5, 6.5}, Hdf5Type::kFloat64).ok());
    ASSERT_TRUE((*f)->WriteNumeric("u8", {3}, {0, 128, 255}, Hdf5Type::kUint8).ok());
    ASSERT_TRUE((*f)->WriteFixedBytes("bytes", {std::string("ab\0c", 4), "xyz1234"}).ok());
    ASSERT_TRUE((*f)->WriteStringAttribute("/", "name", "value ü").ok());
    ASSERT_TRUE((*f)->WriteStringAttribute("a/b/c", "unit", "rad").ok());
    EXPECT_FALSE((*f)->WriteNumeric("bad", {2, 2}, {1, 2, 3}, Hdf5Type::kFloat32).ok());
  }
  auto f = Hdf5File::Open(path);
  ASSERT_TRUE(f.ok());
  auto a = (*f)->ReadNumeric("a/b/c");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(a->values[5], 6.5);
  EXPECT_EQ((*f)->ReadNumeric("u8")->values, (std::vector<double>{0, 128, 255}));
  auto raw = (*f)->ReadBytes("bytes", false);
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ((*raw)[0], std::string("ab\0c\0\0\0", 7));  // padded to the widest item, inner NULs kept
  EXPECT_EQ(*(*f)->ReadBytesAt("bytes", 1, true), "xyz1234");
  auto oob = (*f)->ReadBytesAt("bytes", 2, true);
  ASSERT_FALSE(oob.ok());
  EXPECT_THAT(std::string(oob.status().message()), HasSubstr("index 2 out of range [0, 2)"));
  EXPECT_EQ(*(*f)->ReadStringAttribute("/", "name"), "value ü");
  EXPECT_EQ(*(*f)->ReadStringAttribute("a/b/c", "unit"), "rad");
  EXPECT_EQ(*(*f)->List("a"), (std::vector<std::string>{"b"}));
  EXPECT_TRUE((*f)->IsGroup("a/b"));
  EXPECT_FALSE((*f)->IsGroup("a/b/c"));
  EXPECT_FALSE((*f)->Exists("a/x/c"));
  auto missing = (*f)->ReadNumeric("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("a.h5: 'nope': dataset is missing"));
  EXPECT_FALSE((*f)->ReadNumeric("bytes").ok());  // not numeric
}

TEST(Hdf5FileTest, ConcurrentFilesFromSeveralThreads) {
  const std::string dir = testing::MakeTempDir("h5_threads");
  std::vector<std::thread> threads;
  std::vector<int> ok(4, 0);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 10; ++k) {
        const std::string path = dir + "/t" + std::to_string(i) + "_" + std::to_string(k) + ".h5";
        {
          auto f = Hdf5File::Create(path);
          if (!f.ok() || !(*f)->WriteNumeric("x", {1}, {double(i * 100 + k)}, Hdf5Type::kFloat64).ok()) return;
        }
        auto f = Hdf5File::Open(path);
        if (!f.ok()) return;
        auto x = (*f)->ReadNumeric("x");
        if (x.ok() && x->values[0] == i * 100 + k) ++ok[i];
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, (std::vector<int>{10, 10, 10, 10}));
}

}  // namespace
}  // namespace mivla::data
