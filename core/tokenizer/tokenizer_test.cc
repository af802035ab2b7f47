#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::tokenizer {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string SourcePath(const std::string& relative) {
  return std::string(MIVLA_SOURCE_DIR) + "/" + relative;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class TokenizerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto tok = Tokenizer::FromFile(SourcePath(kTinyTokenizerModelPath));
    ASSERT_TRUE(tok.ok()) << tok.status();
    tok_ = std::move(tok).value().release();
  }
  static void TearDownTestSuite() {
    delete tok_;
    tok_ = nullptr;
  }
  static Tokenizer* tok_;
};
Tokenizer* TokenizerTest::tok_ = nullptr;

TEST_F(TokenizerTest, CommittedModelFitsTheTinyConfig) {
  EXPECT_LE(tok_->vocab_size(), 512);
  EXPECT_GE(tok_->vocab_size(), 100);
  EXPECT_EQ(tok_->serialized_model(), ReadAll(SourcePath(kTinyTokenizerModelPath)));
}

TEST_F(TokenizerTest, RoundTripsSentences) {
  for (const std::string s :
       {"move the bottle onto the pad.", "stack the red block on the blue block.", "press the bell.",
        "hand the block over to the other arm.", "lift the pot with both arms.",
        "place the object in the basket.", "rotate the gripper by 45 degrees, then wait 7 s!",
        "put the zebra-striped vase behind the quartz jug."}) {
    std::vector<int64_t> ids = tok_->Encode(s, 0);
    EXPECT_EQ(tok_->Decode(ids), s);
    EXPECT_THAT(ids, ::testing::Not(Contains(Tokenizer::kUnkId))) << s;
  }
}

TEST_F(TokenizerTest, EveryCorpusLineEncodesWithoutUnknownsAndRoundTripsLowercased) {
  std::ifstream corpus(SourcePath("core/tokenizer/data/instructions.txt"));
  std::string line;
  int lines = 0;
  while (std::getline(corpus, line)) {
    ++lines;
    std::vector<int64_t> ids = tok_->Encode(line, 0);
    EXPECT_THAT(ids, ::testing::Not(Contains(Tokenizer::kUnkId))) << line;
    EXPECT_EQ(tok_->Decode(ids), Lower(line));
  }
  EXPECT_GE(lines, 300);
}

TEST_F(TokenizerTest, CaseIsFolded) {
  EXPECT_EQ(tok_->Encode("Press the Bell", 16), tok_->Encode("press the bell", 16));
}

TEST_F(TokenizerTest, AppendsEosAndNeverAddsBosOrPad) {
  std::vector<int64_t> ids = tok_->Encode("pick up the bottle", 0);
  ASSERT_GE(ids.size(), 2u);
  EXPECT_EQ(ids.back(), Tokenizer::kEosId);
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_GT(ids[i], Tokenizer::kEosId);
    EXPECT_LT(ids[i], tok_->vocab_size());
  }
}

TEST_F(TokenizerTest, TruncationKeepsEosLast) {
  const std::vector<int64_t> full = tok_->Encode("open the microwave and put the bowl inside", 0);
  for (int max = 1; max <= static_cast<int>(full.size()) + 3; ++max) {
    SCOPED_TRACE(max);
    std::vector<int64_t> ids = tok_->Encode("open the microwave and put the bowl inside", max);
    EXPECT_EQ(ids.size(), std::min<size_t>(full.size(), max));
    EXPECT_EQ(ids.back(), Tokenizer::kEosId);
    EXPECT_TRUE(std::equal(ids.begin(), ids.end() - 1, full.begin()));
  }
}

TEST_F(TokenizerTest, EmptyTextGivesEos) {
  EXPECT_THAT(tok_->Encode("", 8), ElementsAre(Tokenizer::kEosId));
  EXPECT_THAT(tok_->Encode("   ", 8), ElementsAre(Tokenizer::kEosId));
  EXPECT_THAT(tok_->Encode("", 0), ElementsAre(Tokenizer::kEosId));
  EXPECT_EQ(tok_->Decode({Tokenizer::kEosId}), "");
}

TEST_F(TokenizerTest, UnknownCharactersMapToUnk) {
  std::vector<int64_t> ids = tok_->Encode("put the 猫 in the box", 32);
  EXPECT_THAT(ids, Contains(Tokenizer::kUnkId));
  EXPECT_EQ(ids.back(), Tokenizer::kEosId);
  EXPECT_THAT(tok_->Decode(ids), HasSubstr("⁇"));
  for (const std::string& odd : {std::string("\xff\xfe\x80"), std::string("a\0b", 3),
                                 std::string(5000, 'q')}) {
    ids = tok_->Encode(odd, 64);
    EXPECT_LE(ids.size(), 64u);
    EXPECT_EQ(ids.back(), Tokenizer::kEosId);
    for (int64_t id : ids) EXPECT_LT(id, tok_->vocab_size());
  }
}

TEST_F(TokenizerTest, DecodeSkipsPadEosAndOutOfRangeIds) {
  std::vector<int64_t> ids = tok_->Encode("press the bell", 0);
  std::vector<int64_t> noisy = {Tokenizer::kPadId, -5};
  noisy.insert(noisy.end(), ids.begin(), ids.end());
  noisy.insert(noisy.end(), {Tokenizer::kPadId, Tokenizer::kPadId, 100000});
  EXPECT_EQ(tok_->Decode(noisy), "press the bell");
}

TEST_F(TokenizerTest, ConcurrentEncodingAgrees) {
  const std::vector<std::string> texts = {"press the bell", "lift the pot with both arms",
                                          "stack the red block on the blue block"};
  std::vector<std::vector<int64_t>> expected;
  for (const auto& t : texts) expected.push_back(tok_->Encode(t, 32));
  std::vector<std::thread> threads;
  std::atomic<int> mismatches{0};
  for (int k = 0; k < 4; ++k) {
    threads.emplace_back([&, k] {
      for (int i = 0; i < 500; ++i) {
        size_t j = (i + k) % texts.size();
        if (tok_->Encode(texts[j], 32) != expected[j]) ++mismatches;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches.load(), 0);
}

TEST(TokenizerLoadTest, GarbageBytesAreRejected) {
  EXPECT_EQ(Tokenizer::FromSerializedModel("").status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(Tokenizer::FromSerializedModel("definitely not a protobuf").status().code(),
            absl::StatusCode::kInvalidArgument);
  std::mt19937 rng(1);
  for (int k = 0; k < 20; ++k) {
    std::string bytes(1 + rng() % 4096, '\0');
    for (char& c : bytes) c = static_cast<char>(rng() & 0xFF);
    EXPECT_FALSE(Tokenizer::FromSerializedModel(bytes).ok());
  }
  std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath));
  EXPECT_FALSE(Tokenizer::FromSerializedModel(model.substr(0, model.size() / 3)).ok());
}

TEST(TokenizerLoadTest, FromSerializedModelMatchesFromFile) {
  std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath));
  auto a = Tokenizer::FromSerializedModel(model);
  auto b = Tokenizer::FromFile(SourcePath(kTinyTokenizerModelPath));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*a)->Encode("press the bell", 8), (*b)->Encode("press the bell", 8));
  EXPECT_EQ((*a)->serialized_model(), model);
}

// testdata/default_ids_spm.model is a valid model with SentencePiece's default ids (unk 0, bos 1,
// eos 2), made by: spm_train --input=core/tokenizer/data/instructions.txt --vocab_size=64
//   --model_prefix=core/tokenizer/testdata/default_ids_spm --normalization_rule_name=identity
TEST(TokenizerLoadTest, ModelWithOtherSpecialIdsIsRejected) {
  auto tok = Tokenizer::FromFile(SourcePath("core/tokenizer/testdata/default_ids_spm.model"));
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("expected pad 0, eos 1, unk 2"));
}

TEST(TokenizerLoadTest, MissingFileIsNotFound) {
  auto tok = Tokenizer::FromFile("/nonexistent/mivla.model");
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("/nonexistent/mivla.model"));
}

}  // namespace
}  // namespace mivla::tokenizer
