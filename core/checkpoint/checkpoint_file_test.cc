#include "core/checkpoint/checkpoint_file.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "core/checkpoint/checkpoint_layout.h"
#include "core/util/crc32c.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla::checkpoint {
namespace {

using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteAll(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

CheckpointContents SmallContents() {
  CheckpointContents c;
  c.model_version = "tiny-000100";
  c.metadata = {{"step", "100"}, {"config", "tiny"}};
  c.sections = {{"config.json", R"({"d_model": 64})"}, {"empty", ""}, {"weights.safetensors", "WXYZ"}};
  return c;
}

CheckpointContents BigContents() {
  CheckpointContents c = SmallContents();
  std::string ramp;
  for (int i = 0; i < 3 * 1024 * 1024; ++i) ramp.push_back(static_cast<char>(i & 0xFF));
  c.sections["binary"] = ramp;
  c.sections["weights.safetensors"] = RandomBytes(1 << 20, 7);
  c.sections["tokenizer.model"] = std::string("\0\1\2\0", 4);
  return c;
}

// Builds a file by hand with valid checksums around an arbitrary header and payload area.
std::string CraftFile(uint32_t version, const std::string& header, const std::string& payload) {
  using namespace internal;  // NOLINT(build/namespaces): the layout helpers
  uint64_t size = kPreambleSize + header.size() + payload.size() + kTrailerSize;
  std::string f(kPreambleSize, '\0');
  std::copy(kMagic, kMagic + 8, f.begin());
  PutU32(&f[8], version);
  PutU32(&f[12], static_cast<uint32_t>(header.size()));
  PutU64(&f[16], size);
  PutU32(&f[24], Crc32c(header.data(), header.size()));
  PutU32(&f[28], Crc32c(f.data(), 28));
  f += header + payload;
  char trailer[kTrailerSize];
  PutU32(trailer, Crc32c(f.data(), f.size()));
  std::copy(kEndMagic, kEndMagic + 8, trailer + 4);
  return f + std::string(trailer, kTrailerSize);
}

class CheckpointFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = ::testing::TempDir() + "/ckpt_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    for (const std::string& f : ListDir()) unlink((dir_ + "/" + f).c_str());
    rmdir(dir_.c_str());
  }
  std::vector<std::string> ListDir() const {
    std::vector<std::string> names;
    DIR* d = opendir(dir_.c_str());
    if (d == nullptr) return names;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n != "." && n != "..") names.push_back(n);
    }
    closedir(d);
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

// Rejected as damaged (or as not a checkpoint at all), with the name in the message.
void ExpectRejected(const absl::Status& s, const std::string& name) {
  EXPECT_THAT(s.code(), AnyOf(absl::StatusCode::kDataLoss, absl::StatusCode::kInvalidArgument)) << s;
  EXPECT_THAT(std::string(s.message()), HasSubstr(name));
}

TEST_F(CheckpointFileTest, RoundTripWithEmptyAndBinarySections) {
  CheckpointContents c = BigContents();
  ASSERT_TRUE(WriteCheckpointFile(Path("a.mivla"), c).ok());
  absl::StatusOr<CheckpointContents> back = ReadCheckpointFile(Path("a.mivla"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == c);
  EXPECT_EQ(back->sections.at("empty"), "");
  absl::StatusOr<CheckpointContents> from_bytes = ReadCheckpointBytes(ReadAll(Path("a.mivla")), "mem");
  ASSERT_TRUE(from_bytes.ok()) << from_bytes.status();
  EXPECT_TRUE(*from_bytes == c);
  EXPECT_THAT(ListDir(), ElementsAre("a.mivla"));
}

TEST_F(CheckpointFileTest, EmptyContentsRoundTrip) {
  ASSERT_TRUE(WriteCheckpointFile(Path("e.mivla"), CheckpointContents{}).ok());
  absl::StatusOr<CheckpointContents> back = ReadCheckpointFile(Path("e.mivla"));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_TRUE(*back == CheckpointContents{});
}

TEST_F(CheckpointFileTest, SameContentsGiveSameBytes) {
  ASSERT_TRUE(WriteCheckpointFile(Path("a"), SmallContents()).ok());
  ASSERT_TRUE(WriteCheckpointFile(Path("b"), SmallContents()).ok());
  EXPECT_EQ(ReadAll(Path("a")), ReadAll(Path("b")));
}

TEST_F(CheckpointFileTest, HeaderReportsVersionMetadataAndSizes) {
  CheckpointContents c = BigContents();
  ASSERT_TRUE(WriteCheckpointFile(Path("h.mivla"), c).ok());
  absl::StatusOr<CheckpointHeader> h = ReadCheckpointHeader(Path("h.mivla"));
  ASSERT_TRUE(h.ok()) << h.status();
  EXPECT_EQ(h->format_version, kCheckpointFormatVersion);
  EXPECT_EQ(h->file_size, ReadAll(Path("h.mivla")).size());
  EXPECT_EQ(h->model_version, "tiny-000100");
  EXPECT_EQ(h->metadata, c.metadata);
  ASSERT_EQ(h->sections.size(), c.sections.size());
  for (const auto& [name, payload] : c.sections) {
    const SectionInfo* s = h->FindSection(name);
    ASSERT_NE(s, nullptr) << name;
    EXPECT_EQ(s->size, payload.size());
    EXPECT_EQ(s->crc32c, Crc32c(payload.data(), payload.size()));
    EXPECT_EQ(ReadAll(Path("h.mivla")).substr(s->offset, s->size), payload);
  }
  EXPECT_EQ(h->FindSection("absent"), nullptr);
}

TEST_F(CheckpointFileTest, HeaderReadSkipsCorruptPayloadThatFullReadRejects) {
  CheckpointContents c = BigContents();
  ASSERT_TRUE(WriteCheckpointFile(Path("p.mivla"), c).ok());
  absl::StatusOr<CheckpointHeader> h = ReadCheckpointHeader(Path("p.mivla"));
  ASSERT_TRUE(h.ok());
  std::string bytes = ReadAll(Path("p.mivla"));
  const SectionInfo* w = h->FindSection("weights.safetensors");
  bytes[w->offset + w->size / 2] ^= 0x10;
  WriteAll(Path("p.mivla"), bytes);

  absl::StatusOr<CheckpointHeader> again = ReadCheckpointHeader(Path("p.mivla"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->FindSection("weights.safetensors")->size, uint64_t{1} << 20);
  absl::Status s = ReadCheckpointFile(Path("p.mivla")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()),
              HasSubstr("corrupt: " + Path("p.mivla") +
                        ": checksum mismatch in section 'weights.safetensors'"));
}

TEST_F(CheckpointFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadCheckpointFile(Path("none")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadCheckpointHeader(Path("none")).status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(std::string(ReadCheckpointFile(Path("none")).status().message()),
              HasSubstr(Path("none")));
}

TEST_F(CheckpointFileTest, DirectoryIsNotACheckpoint) {
  EXPECT_EQ(ReadCheckpointFile(dir_).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointFileTest, WrongMagicIsNotACheckpoint) {
  WriteAll(Path("x.txt"), "just some text that is long enough to hold a preamble and more");
  absl::Status s = ReadCheckpointFile(Path("x.txt")).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "not a MiVLA checkpoint: " + Path("x.txt"));
  EXPECT_EQ(ReadCheckpointHeader(Path("x.txt")).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_F(CheckpointFileTest, TruncationAtEveryByteOfASmallFile) {
  ASSERT_TRUE(WriteCheckpointFile(Path("s.mivla"), SmallContents()).ok());
  const std::string bytes = ReadAll(Path("s.mivla"));
  for (size_t len = 0; len < bytes.size(); ++len) {
    SCOPED_TRACE(len);
    ExpectRejected(ReadCheckpointBytes(bytes.substr(0, len), "small.mivla").status(), "small.mivla");
  }
  // Through real files too, with the exact message once the preamble is there.
  for (size_t len : {size_t{0}, size_t{5}, size_t{31}, size_t{32}, bytes.size() / 2, bytes.size() - 1}) {
    WriteAll(Path("t.mivla"), bytes.substr(0, len));
    ExpectRejected(ReadCheckpointFile(Path("t.mivla")).status(), Path("t.mivla"));
    ExpectRejected(ReadCheckpointHeader(Path("t.mivla")).status(), Path("t.mivla"));
  }
  WriteAll(Path("t.mivla"), bytes.substr(0, 40));
  EXPECT_EQ(ReadCheckpointFile(Path("t.mivla")).status().message(),
            absl::StrCat("truncated: ", Path("t.mivla"), " has 40 bytes, expected ", bytes.size()));
}

TEST_F(CheckpointFileTest, TruncationAtManyPointsOfABigFile) {
  ASSERT_TRUE(WriteCheckpointFile(Path("b.mivla"), BigContents()).ok());
  const std::string bytes = ReadAll(Path("b.mivla"));
  std::vector<size_t> lengths;
  for (size_t i = 0; i < 600; ++i) lengths.push_back(i);                 // preamble and header
  for (size_t i = 1; i <= 64; ++i) lengths.push_back(bytes.size() - i);  // trailer
  for (size_t i = 0; i < 200; ++i) lengths.push_back(bytes.size() * i / 200);
  for (size_t len : lengths) {
    SCOPED_TRACE(len);
    absl::Status s = ReadCheckpointBytes(bytes.substr(0, len), "big.mivla").status();
    ExpectRejected(s, "big.mivla");
    if (len >= 32) {
      EXPECT_THAT(std::string(s.message()), HasSubstr("truncated: big.mivla has"));
    }
  }
}

TEST_F(CheckpointFileTest, EveryBitFlipOfASmallFileIsRejected) {
  ASSERT_TRUE(WriteCheckpointFile(Path("s.mivla"), SmallContents()).ok());
  const std::string bytes = ReadAll(Path("s.mivla"));
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      SCOPED_TRACE(absl::StrCat("byte ", i, " bit ", bit));
      std::string flipped = bytes;
      flipped[i] ^= static_cast<char>(1 << bit);
      ExpectRejected(ReadCheckpointBytes(flipped, "small.mivla").status(), "small.mivla");
    }
  }
}

TEST_F(CheckpointFileTest, BitFlipsAtManyPositionsOfABigFileAreRejected) {
  ASSERT_TRUE(WriteCheckpointFile(Path("b.mivla"), BigContents()).ok());
  const std::string bytes = ReadAll(Path("b.mivla"));
  std::mt19937 rng(42);
  for (int k = 0; k < 200; ++k) {
    size_t i = k < 100 ? rng() % 600 : rng() % bytes.size();
    if (k == 199) i = bytes.size() - 1 - rng() % 12;  // the trailer
    std::string flipped = bytes;
    flipped[i] ^= static_cast<char>(1 << (rng() % 8));
    SCOPED_TRACE(i);
    ExpectRejected(ReadCheckpointBytes(std::move(flipped), "big.mivla").status(), "big.mivla");
  }
}

TEST_F(CheckpointFileTest, FutureFormatVersionIsIncompatible) {
  WriteAll(Path("v7.mivla"), CraftFile(7, R"({"anything":"new"})", "payload"));
  for (const absl::Status& s : {ReadCheckpointFile(Path("v7.mivla")).status(),
                                ReadCheckpointHeader(Path("v7.mivla")).status()}) {
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_EQ(s.message(), "incompatible: " + Path("v7.mivla") +
                               ": format version 7, this build reads up to 1");
  }
}

TEST_F(CheckpointFileTest, FlippedVersionFieldIsCorruptNotIncompatible) {
  ASSERT_TRUE(WriteCheckpointFile(Path("f.mivla"), SmallContents()).ok());
  std::string bytes = ReadAll(Path("f.mivla"));
  bytes[8] ^= 0x04;  // version 1 -> 5, preamble checksum left alone
  absl::Status s = ReadCheckpointBytes(bytes, "f").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("checksum mismatch in preamble"));
}

TEST_F(CheckpointFileTest, HostileSizesWithValidChecksumsAreRejectedWithoutAllocating) {
  const std::string huge = R"({"metadata":{},"model_version":"x","sections":[)"
                           R"({"crc32c":0,"name":"w","offset":0,"size":1152921504606846976}]})";
  absl::Status s = ReadCheckpointBytes(CraftFile(1, huge, "abc"), "hostile").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not fit the payload area"));

  const std::string gap = R"({"metadata":{},"model_version":"x","sections":[)"
                          R"({"crc32c":0,"name":"w","offset":1,"size":0}]})";
  EXPECT_EQ(ReadCheckpointBytes(CraftFile(1, gap, "a"), "gap").status().code(),
            absl::StatusCode::kDataLoss);
  for (const char* header : {"[1,2]", "not json", R"({"metadata":{},"model_version":3})",
                             R"({"metadata":{"k":1},"model_version":"","sections":[]})"}) {
    SCOPED_TRACE(header);
    EXPECT_EQ(ReadCheckpointBytes(CraftFile(1, header, ""), "bad").status().code(),
              absl::StatusCode::kDataLoss);
  }
  std::string lying_size = CraftFile(1, R"({"metadata":{},"model_version":"","sections":[]})", "");
  internal::PutU64(&lying_size[16], uint64_t{1} << 62);
  internal::PutU32(&lying_size[28], Crc32c(lying_size.data(), 28));
  EXPECT_THAT(std::string(ReadCheckpointBytes(lying_size, "lie").status().message()),
              HasSubstr("truncated: lie has"));
}

TEST_F(CheckpointFileTest, TrailingBytesAreRejected) {
  ASSERT_TRUE(WriteCheckpointFile(Path("s.mivla"), SmallContents()).ok());
  absl::Status s = ReadCheckpointBytes(ReadAll(Path("s.mivla")) + "x", "tail").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kDataLoss);
}

TEST_F(CheckpointFileTest, OverwriteReplacesTheFile) {
  ASSERT_TRUE(WriteCheckpointFile(Path("c.mivla"), BigContents()).ok());
  ASSERT_TRUE(WriteCheckpointFile(Path("c.mivla"), SmallContents()).ok());
  absl::StatusOr<CheckpointContents> back = ReadCheckpointFile(Path("c.mivla"));
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == SmallContents());
  EXPECT_THAT(ListDir(), ElementsAre("c.mivla"));
}

TEST_F(CheckpointFileTest, FailedWriteLeavesOldFileAndNoTemporary) {
  ASSERT_TRUE(WriteCheckpointFile(Path("c.mivla"), SmallContents()).ok());
  const std::string old_bytes = ReadAll(Path("c.mivla"));
  for (uint64_t fail_at : {uint64_t{0}, uint64_t{32}, uint64_t{200}, uint64_t{1} << 20,
                           (uint64_t{3} << 20) + 17}) {
    SCOPED_TRACE(fail_at);
    WriteCheckpointOptions options;
    options.before_write_for_testing = [fail_at](uint64_t written) {
      return written >= fail_at ? absl::UnavailableError("disk unplugged") : absl::OkStatus();
    };
    absl::Status s = WriteCheckpointFile(Path("c.mivla"), BigContents(), options);
    EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable);
    EXPECT_EQ(ReadAll(Path("c.mivla")), old_bytes);
    EXPECT_THAT(ListDir(), ElementsAre("c.mivla"));
  }
}

TEST_F(CheckpointFileTest, ReadOnlyDirectoryFailsCleanly) {
  if (geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  ASSERT_TRUE(WriteCheckpointFile(Path("c.mivla"), SmallContents()).ok());
  const std::string old_bytes = ReadAll(Path("c.mivla"));
  ASSERT_EQ(chmod(dir_.c_str(), 0555), 0);
  absl::Status s = WriteCheckpointFile(Path("c.mivla"), BigContents());
  chmod(dir_.c_str(), 0755);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(ReadAll(Path("c.mivla")), old_bytes);
  EXPECT_THAT(ListDir(), ElementsAre("c.mivla"));
}

TEST_F(CheckpointFileTest, WriteIntoMissingDirectoryFails) {
  absl::Status s = WriteCheckpointFile(Path("no/such/dir/c.mivla"), SmallContents());
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListDir().empty());
}

TEST_F(CheckpointFileTest, UnwritableContentsAreInvalidArgument) {
  CheckpointContents c = SmallContents();
  c.sections[""] = "x";
  EXPECT_EQ(WriteCheckpointFile(Path("c"), c).code(), absl::StatusCode::kInvalidArgument);
  c = SmallContents();
  c.metadata["bad"] = "\xff\xfe";
  EXPECT_EQ(WriteCheckpointFile(Path("c"), c).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(ListDir().empty());
}

TEST_F(CheckpointFileTest, ReadersSeeOnlyCompleteFilesWhileWritersRace) {
  WriteCheckpointOptions fast;
  fast.sync = false;
  ASSERT_TRUE(WriteCheckpointFile(Path("r.mivla"), SmallContents(), fast).ok());
  std::atomic<bool> stop{false};
  std::atomic<int> bad{0};
  std::thread reader([&] {
    while (!stop) {
      if (!ReadCheckpointFile(Path("r.mivla")).ok()) ++bad;
    }
  });
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int i = 0; i < 30; ++i) {
        CheckpointContents c = SmallContents();
        c.sections["weights.safetensors"] = RandomBytes(200000 + 1000 * i, w * 100 + i);
        if (!WriteCheckpointFile(Path("r.mivla"), c, fast).ok()) ++bad;
      }
    });
  }
  for (std::thread& t : writers) t.join();
  stop = true;
  reader.join();
  EXPECT_EQ(bad.load(), 0);
  EXPECT_THAT(ListDir(), ElementsAre("r.mivla"));
}

}  // namespace
}  // namespace mivla::checkpoint
