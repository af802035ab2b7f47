// File: progress_bar_test.cc
#include "core/util/progress_bar.h"

#include <algorithm>
#include <cstdio>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace mivla {
namespace {

using ::testing::HasSubstr;

std::string ReadAll(std::FILE* f) {
  std::rewind(f);
  std::string out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  return out;
}

TEST(Progress, LineShowsCountPercentAndEta) {
  const std::string line = FormatProgress(5, 10, "episodes", 12.0, "episode 4");
  EXPECT_THAT(line, HasSubstr("[##########----------] 5/10 episodes  50%"));
  EXPECT_THAT(line, HasSubstr("elapsed 12.0s"));
  EXPECT_THAT(line, HasSubstr("ETA 12.0s"));  // half done in 12 s: 12 s to go
  EXPECT_THAT(line, HasSubstr("episode 4"));
  EXPECT_THAT(FormatProgress(0, 4, "steps", 1.0, ""), HasSubstr("ETA ?"));
  EXPECT_THAT(FormatProgress(1, 4, "steps", 100.0, ""), HasSubstr("ETA 5m00s"));
}

TEST(Progress, Durations) {
  EXPECT_EQ(FormatDuration(3.25), "3.2s");
  EXPECT_EQ(FormatDuration(185), "3m05s");
  EXPECT_EQ(FormatDuration(3725), "1h02m");
  EXPECT_EQ(FormatDuration(-1), "?");
}

TEST(Progress, PlainLinesWhenNotATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressBar bar({3, true, f, 0, "robots"});
  bar.Update(1);
  bar.Update(2, "attempts 3");
  bar.Update(3, "attempts 4");
  bar.Finish();
  const std::string out = ReadAll(f);
  std::fclose(f);
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 3);
  EXPECT_EQ(out.find('\r'), std::string::npos);
  EXPECT_THAT(out, HasSubstr("3/3 robots 100%  elapsed"));
  EXPECT_THAT(out, HasSubstr("attempts 4\n"));
}

TEST(Progress, RedrawsInPlaceOnATerminal) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressBar bar({2, true, f, 1});
  bar.Update(1);
  bar.Update(2);  // the last update is always drawn
  bar.Finish();
  const std::string out = ReadAll(f);
  std::fclose(f);
  EXPECT_EQ(out.front(), '\r');
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
  EXPECT_THAT(out, HasSubstr("2/2 episodes 100%"));
}

TEST(Progress, DisabledWritesNothing) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ProgressBar bar({2, false, f, 0});
  bar.Update(1);
  bar.Finish();
  EXPECT_EQ(ReadAll(f), "");
  std::fclose(f);
}

}  // namespace
}  // namespace mivla
