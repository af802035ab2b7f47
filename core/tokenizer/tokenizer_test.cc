#include "core/tokenizer/tokenizer.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "core/tokenizer/proto_wire_reader.h"
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

// Reads spm_encode's "id id id" line.
std::vector<int64_t> ParseIds(const std::string& line) {
  std::vector<int64_t> ids;
  std::istringstream in(line);
  int64_t id;
  while (in >> id) ids.push_back(id);
  return ids;
}

std::vector<int64_t> WithoutEos(std::vector<int64_t> ids) {
  if (!ids.empty() && ids.back() == Tokenizer::kEosId) ids.pop_back();
  return ids;
}

// testdata/spm_golden.tsv ("ids<TAB>sentence") is spm_encode's output, made by testdata/make_golden.sh,
// so this comparison with the reference runs without sentencepiece installed.
TEST_F(TokenizerTest, MatchesGoldenSpmEncodeIds) {
  std::ifstream golden(SourcePath("core/tokenizer/testdata/spm_golden.tsv"), std::ios::binary);
  ASSERT_TRUE(golden.good());
  std::string line;
  int n = 0;
  while (std::getline(golden, line)) {
    const size_t tab = line.find('\t');
    ASSERT_NE(tab, std::string::npos) << line;
    const std::string sentence = line.substr(tab + 1);
    EXPECT_EQ(WithoutEos(tok_->Encode(sentence, 0)), ParseIds(line.substr(0, tab))) << sentence;
    ++n;
  }
  EXPECT_GE(n, 130);
}

// Where Debian's spm_encode is installed, compares with it live on every corpus line (as written, the
// reference seeing the lower-cased line) and on the extra sentences.
TEST_F(TokenizerTest, MatchesSpmEncodeWhenInstalled) {
  if (std::system("command -v spm_encode >/dev/null 2>&1") != 0) GTEST_SKIP() << "no spm_encode";
  std::vector<std::string> sentences;
  std::ifstream corpus(SourcePath("core/tokenizer/data/instructions.txt"));
  for (std::string line; std::getline(corpus, line);) sentences.push_back(line);
  std::ifstream extra(SourcePath("core/tokenizer/testdata/extra_sentences.txt"), std::ios::binary);
  for (std::string line; std::getline(extra, line);) sentences.push_back(line);
  const std::string input = ::testing::TempDir() + "/mivla_spm_input.txt";
  {
    std::ofstream out(input, std::ios::binary);
    for (const std::string& s : sentences) out << Lower(s) << "\n";
  }
  const std::string cmd = "spm_encode --output_format=id --model '" +
                          SourcePath(kTinyTokenizerModelPath) + "' < '" + input + "'";
  std::FILE* pipe = popen(cmd.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), pipe)) > 0;) output.append(buf, n);
  ASSERT_EQ(pclose(pipe), 0) << cmd;
  std::istringstream lines(output);
  size_t i = 0, equal = 0;
  for (std::string line; std::getline(lines, line) && i < sentences.size(); ++i) {
    const std::vector<int64_t> want = ParseIds(line);
    EXPECT_EQ(WithoutEos(tok_->Encode(sentences[i], 0)), want) << sentences[i];
    equal += WithoutEos(tok_->Encode(sentences[i], 0)) == want;
  }
  EXPECT_EQ(i, sentences.size());
  std::printf("spm_encode agreement: %zu of %zu sentences\n", equal, sentences.size());
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

TEST_F(TokenizerTest, WhitespaceIsCollapsed) {
  const std::vector<int64_t> want = tok_->Encode("press the bell", 0);
  EXPECT_EQ(tok_->Encode("  press\tthe \n\r bell  ", 0), want);
  EXPECT_EQ(tok_->Encode("PRESS   THE\vBELL", 0), want);
}

TEST_F(TokenizerTest, UnknownCharactersMapToUnk) {
  std::vector<int64_t> ids = tok_->Encode("put the 猫 in the box", 32);
  EXPECT_THAT(ids, Contains(Tokenizer::kUnkId));
  EXPECT_EQ(ids.back(), Tokenizer::kEosId);
  EXPECT_EQ(tok_->Decode(ids), "put the  in the box");  // unk is skipped, its space stays
  // A run of unknown characters (and of invalid bytes) is one unk.
  ids = tok_->Encode("猫猫猫 \xff\xfe", 0);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), Tokenizer::kUnkId), 2) << ::testing::PrintToString(ids);
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

TEST_F(TokenizerTest, DecodeSkipsUnkAndControlIds) {
  std::vector<int64_t> ids = tok_->Encode("press the bell", 0);
  ids.insert(ids.begin() + 1, {Tokenizer::kUnkId, Tokenizer::kEosId, Tokenizer::kPadId});
  EXPECT_EQ(tok_->Decode(ids), "press the bell");
  EXPECT_EQ(tok_->Decode({}), "");
}

TEST_F(TokenizerTest, LongInputsEncodeFast) {
  std::string text;
  std::mt19937 rng(3);
  const std::vector<std::string> words = {"press", "the", "bell", "stack", "red", "block", "on",
                                          "blue", "quartz", "zebra", "猫", "45", "degrees,"};
  while (text.size() < 4000) text += words[rng() % words.size()] + " ";
  const int reps = 50;
  const auto start = std::chrono::steady_clock::now();
  size_t total = 0;
  for (int i = 0; i < reps; ++i) total += tok_->Encode(text, 0).size();
  const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() -
                                                              start).count() / reps;
  const double us_per_100_chars = us * 100.0 / static_cast<double>(text.size());
  std::printf("encode: %zu bytes -> %zu ids in %.1f us (%.2f us per 100 chars)\n", text.size(),
              total / reps, us, us_per_100_chars);
  EXPECT_LT(us_per_100_chars, 250.0);  // the budget is 1000 us; generous for sanitizer/debug builds
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

TEST(TokenizerLoadTest, ModelTruncatedAtEveryLengthIsRejected) {
  const std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath));
  ASSERT_TRUE(Tokenizer::FromSerializedModel(model).ok());
  for (size_t len = 0; len < model.size(); ++len) {
    auto tok = Tokenizer::FromSerializedModel(model.substr(0, len));
    ASSERT_FALSE(tok.ok()) << len;
    ASSERT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument) << len;
  }
}

TEST(TokenizerLoadTest, CorruptedModelsNeverCrash) {
  const std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath));
  std::mt19937 rng(7);
  int loaded = 0;
  for (int k = 0; k < 3000; ++k) {
    std::string bytes = model;
    for (int flips = 1 + static_cast<int>(rng() % 4); flips > 0; --flips) {
      bytes[rng() % bytes.size()] = static_cast<char>(rng() & 0xFF);
    }
    auto tok = Tokenizer::FromSerializedModel(bytes);
    if (!tok.ok()) continue;
    ++loaded;  // a flipped score or piece byte can still be a valid model: it must still work
    for (int64_t id : (*tok)->Encode("stack the red block on the blue 猫 block", 0)) {
      EXPECT_GE(id, 0);
      EXPECT_LT(id, (*tok)->vocab_size());
    }
  }
  std::printf("%d of 3000 corrupted models still loaded\n", loaded);
}

// testdata/bpe_spm.model: spm_train --input=<lower-cased instructions.txt> --model_type=bpe
//   --vocab_size=100 --pad_id=0 --eos_id=1 --unk_id=2 --bos_id=-1 --normalization_rule_name=identity
TEST(TokenizerLoadTest, NonUnigramModelIsRejected) {
  auto tok = Tokenizer::FromFile(SourcePath("core/tokenizer/testdata/bpe_spm.model"));
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("only UNIGRAM (1) models"));
  // The committed model with TrainerSpec.model_type overridden to WORD (a later field wins on merge).
  std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath)) + std::string("\x12\x02\x18\x03");
  tok = Tokenizer::FromSerializedModel(model);
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("model_type is 3"));
}

TEST(TokenizerLoadTest, NonIdentityNormalizerIsRejected) {
  const std::string model = ReadAll(SourcePath(kTinyTokenizerModelPath));
  // NormalizerSpec.name = "nmt_nfkc_cf" appended (merges into the model's NormalizerSpec).
  auto tok = Tokenizer::FromSerializedModel(model + std::string("\x1a\x0d\x0a\x0bnmt_nfkc_cf"));
  EXPECT_EQ(tok.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("normalizer is 'nmt_nfkc_cf'"));
  // A precompiled charsmap under the identity name is rejected too.
  tok = Tokenizer::FromSerializedModel(model + std::string("\x1a\x03\x12\x01x"));
  EXPECT_THAT(std::string(tok.status().message()), HasSubstr("precompiled charsmap"));
}

TEST(WireReaderTest, ReadsFieldsAndRejectsMalformedInput) {
  using internal::WireReader;
  using internal::WireType;
  // field 1 varint 300, field 2 fixed32, field 3 bytes "ab", field 4 group {field 5 varint 1}.
  const std::string ok("\x08\xac\x02\x15\x00\x00\x80\x3f\x1a\x02" "ab\x23\x28\x01\x24", 16);
  WireReader reader(ok);
  auto f = reader.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->varint, 300u);
  f = reader.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(f->AsFloat(), 1.0f);
  f = reader.Next();
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(std::string(f->bytes), "ab");
  f = reader.Next();
  ASSERT_TRUE(f.ok()) << f.status();
  EXPECT_EQ(f->type, WireType::kStartGroup);
  EXPECT_TRUE(reader.AtEnd());
  for (const std::string& bad :
       {std::string("\x08"), std::string("\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
        std::string("\x00\x01", 2), std::string("\x0e"), std::string("\x15\x00"),
        std::string("\x1a\xff\xff\xff\xff\xff\xff\xff\xff\x7f"), std::string("\x1a\x05" "ab"),
        std::string("\x24"), std::string("\x23\x2c"), std::string(200, '\x23')}) {
    WireReader r(bad);
    absl::Status status;
    while (!r.AtEnd() && status.ok()) status = r.Next().status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << ::testing::PrintToString(bad);
  }
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
