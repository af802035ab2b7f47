#include "core/model/safetensors.h"

#include <cstring>
#include <fstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::model {
namespace {

using ::testing::HasSubstr;

// A file built by hand (not by our writer): header length, JSON, two floats and one int16.
std::string HandBuiltFile(const std::string& json, const std::string& data) {
  std::string out(8, '\0');
  uint64_t n = json.size();
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((n >> (8 * i)) & 0xff);
  return out + json + data;
}

std::string FloatBytes(std::initializer_list<float> values) {
  std::string out;
  for (float v : values) out.append(reinterpret_cast<const char*>(&v), sizeof(v));
  return out;
}

NamedTensors AllDtypes() {
  torch::manual_seed(3);
  return {
      {"f64", torch::randn({2, 3}, torch::kFloat64)},
      {"f32", torch::randn({4, 1, 2})},
      {"f16", torch::randn({5}).to(torch::kFloat16)},
      {"bf16", torch::randn({3, 3}).to(torch::kBFloat16)},
      {"i64", torch::randint(-1000, 1000, {7}, torch::kInt64)},
      {"i32", torch::randint(-1000, 1000, {2, 2}, torch::kInt32)},
      {"i16", torch::randint(-1000, 1000, {3}, torch::kInt16)},
      {"i8", torch::randint(-100, 100, {6}, torch::kInt8)},
      {"u8", torch::randint(0, 255, {2, 5}, torch::kUInt8)},
      {"bool", torch::rand({9}) > 0.5},
      {"scalar", torch::tensor(2.5)},
      {"empty", torch::zeros({0, 4})},
      {"transposed", torch::arange(12, torch::kFloat32).view({3, 4}).t()},
  };
}

TEST(SafetensorsTest, RoundTripsEveryDtypeAndMetadata) {
  const NamedTensors tensors = AllDtypes();
  const std::map<std::string, std::string> meta = {{"format", "pt"}, {"note", "hello \"world\""}};
  auto bytes = SerializeSafetensors(tensors, meta);
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ((bytes->size() - 8 - (bytes->size() - 8) % 8) % 8, 0u);
  auto file = SafetensorsFile::Parse(*bytes);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->metadata(), meta);
  EXPECT_EQ(file->names().size(), tensors.size());
  for (const auto& [name, expected] : tensors) {
    ASSERT_TRUE(file->contains(name)) << name;
    auto got = file->Get(name);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->scalar_type(), expected.scalar_type()) << name;
    EXPECT_EQ(got->sizes(), expected.sizes()) << name;
    EXPECT_TRUE(torch::equal(*got, expected)) << name;
  }
  EXPECT_EQ(file->Find("f16")->dtype, "F16");
  EXPECT_EQ(file->Find("bool")->dtype, "BOOL");
}

TEST(SafetensorsTest, WritesAndOpensFiles) {
  const std::string path = testing::TempDir() + "/roundtrip.safetensors";
  ASSERT_TRUE(WriteSafetensors(path, AllDtypes(), {{"k", "v"}}).ok());
  auto file = SafetensorsFile::Open(path);
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->source(), path);
  EXPECT_EQ(file->metadata().at("k"), "v");
  EXPECT_TRUE(torch::equal(*file->Get("i64"), AllDtypes()[4].second));
  auto missing = SafetensorsFile::Open(path + ".nope");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
}

TEST(SafetensorsTest, ReadsAHandBuiltFile) {
  const std::string json =
      R"({"b":{"dtype":"I16","shape":[1],"data_offsets":[8,10]},)"
      R"("a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"__metadata__":{"x":"y"}}   )";
  int16_t i16 = -7;
  std::string data = FloatBytes({1.5f, -2.0f}) + std::string(reinterpret_cast<const char*>(&i16), 2);
  auto file = SafetensorsFile::Parse(HandBuiltFile(json, data), "hand");
  ASSERT_TRUE(file.ok()) << file.status();
  EXPECT_EQ(file->names(), (std::vector<std::string>{"a", "b"}));
  torch::Tensor a = *file->Get("a");
  EXPECT_EQ(a[0].item<float>(), 1.5f);
  EXPECT_EQ(a[1].item<float>(), -2.0f);
  EXPECT_EQ(file->Get("b")->item<int16_t>(), -7);
  EXPECT_EQ(file->Get("c").status().code(), absl::StatusCode::kNotFound);
}

TEST(SafetensorsTest, NonZeroBoolBytesReadAsTrue) {
  const std::string json = R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})";
  auto file = SafetensorsFile::Parse(HandBuiltFile(json, std::string("\x00\x01\x07", 3)));
  ASSERT_TRUE(file.ok()) << file.status();
  torch::Tensor m = *file->Get("m");
  EXPECT_EQ(m.scalar_type(), torch::kBool);
  EXPECT_TRUE(torch::equal(m, torch::tensor({false, true, true})));
}

struct BadCase {
  const char* json;
  size_t data_bytes;
  const char* expect;  // substring of the error
};

TEST(SafetensorsTest, RejectsMalformedHeadersWithReasons) {
  const BadCase cases[] = {
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]})", 8, "not valid JSON"},
      {R"([1,2])", 0, "not a JSON object"},
      {R"({"t":{"dtype":"Q7","shape":[2],"data_offsets":[0,8]}})", 8, "tensor 't': unknown or unsupported dtype"},
      {R"({"t":{"dtype":"U16","shape":[2],"data_offsets":[0,4]}})", 4, "unsupported dtype 'U16'"},
      {R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})", 8, "tensor 't': data_offsets [0, 8] span 8"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", 4, "tensor 't': data_offsets end 8 beyond"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}})", 8, "end 0 < begin 8"},
      {R"({"t":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}})", 8, "non-negative"},
      {R"({"t":{"dtype":"F32","shape":[2]}})", 8, "data_offsets"},
      {R"({"t":{"shape":[2],"data_offsets":[0,8]}})", 8, "dtype"},
      {R"({"t":{"dtype":"F32","shape":2,"data_offsets":[0,8]}})", 8, "shape"},
      {R"({"t":5})", 0, "tensor 't': entry is not a JSON object"},
      {R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"u":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})",
       8, "overlap"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8, "hole"},
      {R"({"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})", 8, "cover 4 bytes"},
      {R"({"t":{"dtype":"F32","shape":[4611686018427387904,8],"data_offsets":[0,8]}})", 8, "overflow"},
      {R"({"__metadata__":{"a":1}})", 0, "not a string"},
      {R"({"__metadata__":[]})", 0, "__metadata__ is not an object"},
  };
  for (const BadCase& c : cases) {
    auto file = SafetensorsFile::Parse(HandBuiltFile(c.json, std::string(c.data_bytes, '\0')), "bad.st");
    ASSERT_FALSE(file.ok()) << c.json;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr(c.expect)) << c.json;
    EXPECT_THAT(std::string(file.status().message()), HasSubstr("bad.st")) << c.json;
  }
}

TEST(SafetensorsTest, RejectsBadLengths) {
  EXPECT_THAT(std::string(SafetensorsFile::Parse("abc").status().message()), HasSubstr("too short"));
  std::string huge(16, '\0');
  huge[0] = 100;  // header claims 100 bytes; only 8 follow
  EXPECT_THAT(std::string(SafetensorsFile::Parse(huge).status().message()), HasSubstr("runs past the end"));
  huge[7] = 0x7f;
  EXPECT_THAT(std::string(SafetensorsFile::Parse(huge).status().message()), HasSubstr("exceeds the limit"));
}

TEST(SafetensorsTest, EveryTruncationIsAnErrorAndNeverCrashes) {
  auto bytes = SerializeSafetensors(AllDtypes(), {{"m", "v"}});
  ASSERT_TRUE(bytes.ok());
  for (size_t len = 0; len < bytes->size(); ++len) {
    auto file = SafetensorsFile::Parse(bytes->substr(0, len));
    EXPECT_FALSE(file.ok()) << "truncated at " << len;
  }
}

TEST(SafetensorsTest, FlippedHeaderBytesNeverCrash) {
  auto bytes = SerializeSafetensors(AllDtypes(), {{"m", "v"}});
  ASSERT_TRUE(bytes.ok());
  uint64_t n = 0;
  std::memcpy(&n, bytes->data(), 8);
  int rejected = 0;
  for (size_t pos = 0; pos < 8 + n; ++pos) {
    for (unsigned char mask : {0x01, 0x10, 0x80, 0xff}) {
      std::string copy = *bytes;
      copy[pos] = static_cast<char>(copy[pos] ^ mask);
      auto file = SafetensorsFile::Parse(std::move(copy));
      if (!file.ok()) {
        ++rejected;
        EXPECT_FALSE(file.status().message().empty());
        continue;
      }
      for (const std::string& name : file->names()) EXPECT_TRUE(file->Get(name).ok()) << name;
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(SafetensorsTest, SerializeRejectsBadInput) {
  EXPECT_FALSE(SerializeSafetensors({{"a", torch::zeros({1})}, {"a", torch::zeros({1})}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"", torch::zeros({1})}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"__metadata__", torch::zeros({1})}}).ok());
  EXPECT_FALSE(SerializeSafetensors({{"u", torch::Tensor()}}).ok());
  auto complex = SerializeSafetensors({{"c", torch::zeros({1}, torch::kComplexFloat)}});
  ASSERT_FALSE(complex.ok());
  EXPECT_THAT(std::string(complex.status().message()), HasSubstr("'c'"));
}

}  // namespace
}  // namespace mivla::model
