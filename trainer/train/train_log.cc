#include "trainer/train/train_log.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "core/util/progress_bar.h"

namespace mivla::trainer {
namespace fs = std::filesystem;
namespace {

constexpr char kCsvHeader[] =
    "step,loss,robot,robot_to_human,human,human_to_robot,lr,grad_norm,samples_per_s,data_s,forward_s,"
    "backward_s,optimizer_s";

std::string CsvRow(const StepRecord& r) {
  return absl::StrFormat("%d,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6g,%.4g,%.5f,%.5f,%.5f,%.5f", r.step, r.loss, r.robot,
                         r.robot_to_human, r.human, r.human_to_robot, r.lr, r.grad_norm, r.samples_per_s, r.data_s,
                         r.forward_s, r.backward_s, r.optimizer_s);
}

// Keeps the header and rows with step <= first_step of an existing CSV; returns their records.
std::vector<StepRecord> TrimCsv(const std::string& path, int64_t first_step) {
  std::vector<StepRecord> kept;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    std::vector<std::string> f = absl::StrSplit(line, ',');
    StepRecord r;
    if (f.size() != 13 || !absl::SimpleAtoi(f[0], &r.step) || r.step > first_step) continue;
    double* dst[] = {&r.loss, &r.robot, &r.robot_to_human, &r.human, &r.human_to_robot, &r.lr, &r.grad_norm,
                     &r.samples_per_s, &r.data_s, &r.forward_s, &r.backward_s, &r.optimizer_s};
    for (int i = 0; i < 12; ++i) absl::SimpleAtod(f[i + 1], dst[i]);
    kept.push_back(r);
  }
  std::ofstream out(path, std::ios::trunc);
  out << kCsvHeader << "\n";
  for (const StepRecord& r : kept) out << CsvRow(r) << "\n";
  return kept;
}

}  // namespace

TrainLog::TrainLog(Options options)
    : options_(std::move(options)),
      tty_(options_.tty >= 0 ? options_.tty == 1 : isatty(fileno(options_.out)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {
  if (options_.dir.empty()) return;
  const std::string csv = (fs::path(options_.dir) / "train_log.csv").string();
  if (options_.first_step > 0 && fs::exists(csv)) {
    history_ = TrimCsv(csv, options_.first_step);
  } else {
    std::ofstream(csv, std::ios::trunc) << kCsvHeader << "\n";
  }
}

std::string TrainLog::Line(const StepRecord& r) const {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const int64_t total = std::max<int64_t>(options_.last_step, 1);
  const int64_t done_here = r.step - options_.first_step, left = total - r.step;
  const std::string eta = done_here > 0 ? FormatDuration(elapsed / done_here * left) : "?";
  constexpr int kWidth = 20;
  const int filled = static_cast<int>(std::clamp<int64_t>(r.step * kWidth / total, 0, kWidth));
  return absl::StrFormat("[%s%s] step %d/%d %3d%%  loss %.4f  lr %.2g  %.1f samples/s  elapsed %s  ETA %s",
                         std::string(filled, '#'), std::string(kWidth - filled, '-'), r.step, total,
                         static_cast<int>(r.step * 100 / total), r.loss, r.lr, r.samples_per_s,
                         FormatDuration(elapsed), eta);
}

void TrainLog::Tick(const StepRecord& r) {
  if (!options_.progress || !tty_) return;
  const auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  std::fprintf(options_.out, "\r%s\033[K", Line(r).c_str());
  std::fflush(options_.out);
  drawn_ = true;
  last_draw_ = now;
}

absl::Status TrainLog::Record(const StepRecord& r) {
  history_.push_back(r);
  if (options_.progress) {
    if (tty_) {
      drawn_ = false;
      Tick(r);
    } else {
      std::fprintf(options_.out, "%s\n", Line(r).c_str());
      std::fflush(options_.out);
    }
  }
  if (options_.dir.empty()) return absl::OkStatus();
  const std::string csv = (fs::path(options_.dir) / "train_log.csv").string();
  std::ofstream out(csv, std::ios::app);
  out << CsvRow(r) << "\n";
  if (!out.flush()) return absl::InternalError(absl::StrCat(csv, ": cannot append"));
  return absl::OkStatus();
}

absl::Status TrainLog::WriteCurve() const {
  if (options_.dir.empty()) return absl::OkStatus();
  return WriteLossCurvePng((fs::path(options_.dir) / "loss_curve.png").string(), history_);
}

void TrainLog::Finish() {
  if (options_.progress && tty_ && drawn_) std::fprintf(options_.out, "\n");
  std::fflush(options_.out);
}

absl::Status WriteLossCurvePng(const std::string& path, const std::vector<StepRecord>& history) {
  constexpr int kW = 800, kH = 480, kLeft = 70, kRight = 160, kTop = 30, kBottom = 50;
  cv::Mat img(kH, kW, CV_8UC3, cv::Scalar(255, 255, 255));
  struct Series {
    const char* name;
    double StepRecord::*field;
    cv::Scalar color;
  };
  const Series series[] = {{"total", &StepRecord::loss, {0, 0, 0}},
                           {"robot", &StepRecord::robot, {200, 80, 0}},
                           {"robot->human", &StepRecord::robot_to_human, {0, 160, 0}},
                           {"human", &StepRecord::human, {0, 0, 210}},
                           {"human->robot", &StepRecord::human_to_robot, {160, 0, 160}}};
  double lo = INFINITY, hi = -INFINITY;
  int64_t s0 = history.empty() ? 0 : history.front().step, s1 = history.empty() ? 1 : history.back().step;
  for (const StepRecord& r : history) {
    for (const Series& s : series) {
      const double v = r.*(s.field);
      if (v > 0 && std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
  }
  if (!(lo < INFINITY)) lo = 1e-3, hi = 1;
  double llo = std::floor(std::log10(lo)), lhi = std::ceil(std::log10(hi));
  if (lhi <= llo) lhi = llo + 1;
  if (s1 <= s0) s1 = s0 + 1;
  const cv::Rect plot(kLeft, kTop, kW - kLeft - kRight, kH - kTop - kBottom);
  auto px = [&](int64_t step, double v) {
    const double fx = static_cast<double>(step - s0) / static_cast<double>(s1 - s0);
    const double fy = (std::log10(v) - llo) / (lhi - llo);
    return cv::Point(plot.x + static_cast<int>(fx * plot.width), plot.y + plot.height - static_cast<int>(fy * plot.height));
  };
  cv::rectangle(img, plot, cv::Scalar(0, 0, 0), 1);
  for (double e = llo; e <= lhi; e += 1) {
    const int y = px(s0, std::pow(10.0, e)).y;
    cv::line(img, {plot.x, y}, {plot.x + plot.width, y}, cv::Scalar(220, 220, 220), 1);
    cv::putText(img, absl::StrFormat("1e%d", static_cast<int>(e)), {5, y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
                cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  cv::putText(img, absl::StrCat("step ", s0), {plot.x, kH - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
  cv::putText(img, absl::StrCat("step ", s1), {plot.x + plot.width - 80, kH - 20}, cv::FONT_HERSHEY_SIMPLEX, 0.45,
              {0, 0, 0}, 1, cv::LINE_AA);
  cv::putText(img, "training loss (log scale)", {kLeft, 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55, {0, 0, 0}, 1, cv::LINE_AA);
  int legend_y = kTop + 10;
  for (const Series& s : series) {
    std::vector<cv::Point> pts;
    for (const StepRecord& r : history) {
      const double v = r.*(s.field);
      if (v > 0 && std::isfinite(v)) pts.push_back(px(r.step, v));
    }
    if (pts.empty()) continue;
    cv::polylines(img, pts, false, s.color, s.field == &StepRecord::loss ? 2 : 1, cv::LINE_AA);
    cv::line(img, {kW - kRight + 10, legend_y}, {kW - kRight + 35, legend_y}, s.color, 2);
    cv::putText(img, s.name, {kW - kRight + 40, legend_y + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.45, {0, 0, 0}, 1, cv::LINE_AA);
    legend_y += 20;
  }
  const std::string tmp = path + ".tmp.png";
  if (!cv::imwrite(tmp, img)) return absl::InternalError(absl::StrCat(path, ": cannot write the PNG"));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat(path, ": rename failed: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace mivla::trainer
