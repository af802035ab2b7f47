// File: eval_plot.cc
#include "client/eval/eval_plot.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla::client {
namespace {

constexpr int kFrameW = 240, kFrameH = 180, kFrames = 4, kHeader = 28, kTraceW = 240;

void DrawTraces(const TaskReport& t, cv::Mat roi) {
  roi.setTo(cv::Scalar(250, 250, 250));
  double xmin = std::numeric_limits<double>::max(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  for (const EpisodeResult& r : t.results) {
    for (const auto& tick : r.trace) {
      for (const Eigen::Vector3d& p : tick) {
        xmin = std::min(xmin, p.x()), xmax = std::max(xmax, p.x());
        ymin = std::min(ymin, p.y()), ymax = std::max(ymax, p.y());
      }
    }
  }
  if (xmin > xmax) {
    cv::putText(roi, "no traces", {10, roi.rows / 2}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1);
    return;
  }
  const double span = std::max({xmax - xmin, ymax - ymin, 0.05}) * 1.15;
  const double cx = 0.5 * (xmin + xmax), cy = 0.5 * (ymin + ymax);
  const double scale = (std::min(roi.cols, roi.rows) - 10) / span;
  // Top-down view: world +x (away from the robot) up, world +y to the left.
  auto px = [&](const Eigen::Vector3d& p) {
    return cv::Point(static_cast<int>(roi.cols / 2 - (p.y() - cy) * scale),
                     static_cast<int>(roi.rows / 2 - (p.x() - cx) * scale));
  };
  for (const EpisodeResult& r : t.results) {
    const cv::Scalar colour = r.success ? cv::Scalar(40, 160, 40) : cv::Scalar(40, 40, 200);  // BGR
    for (size_t k = 1; k < r.trace.size(); ++k) {
      for (size_t a = 0; a < r.trace[k].size() && a < r.trace[k - 1].size(); ++a) {
        cv::line(roi, px(r.trace[k - 1][a]), px(r.trace[k][a]), colour, 1, cv::LINE_AA);
      }
    }
    if (!r.trace.empty()) {
      for (const Eigen::Vector3d& p : r.trace.front()) cv::circle(roi, px(p), 3, colour, cv::FILLED);
    }
  }
  cv::putText(roi, absl::StrFormat("%.0f cm", span * 100), {5, roi.rows - 6}, cv::FONT_HERSHEY_SIMPLEX, 0.35,
              cv::Scalar(90, 90, 90), 1);
}

constexpr int kHistH = 220;

// Log-spaced histogram of each series (counts as a share of the series), with a legend of p50 / p99.
void DrawLatencyHistogram(const std::vector<LatencySeries>& series, cv::Mat roi) {
  roi.setTo(cv::Scalar(255, 255, 255));
  static const cv::Scalar kColours[] = {{200, 90, 30}, {40, 140, 40}, {40, 40, 200}, {160, 60, 160}, {30, 150, 200}};
  double lo = std::numeric_limits<double>::max(), hi = 0;
  for (const LatencySeries& s : series) {
    for (double v : s.ms) lo = std::min(lo, std::max(v, 0.1)), hi = std::max(hi, v);
  }
  cv::putText(roi, "round trip per chunk request (Observe + Act), share of requests", {8, 16}, cv::FONT_HERSHEY_SIMPLEX,
              0.45, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  if (hi <= 0) {
    cv::putText(roi, "no requests", {10, roi.rows / 2}, cv::FONT_HERSHEY_SIMPLEX, 0.45, cv::Scalar(0, 0, 0), 1);
    return;
  }
  const double l0 = std::floor(std::log10(lo)), l1 = std::max(std::ceil(std::log10(hi)), l0 + 1);
  constexpr int kBins = 40;
  const int x0 = 50, x1 = roi.cols - 310, y0 = 28, y1 = roi.rows - 28;
  auto bin_of = [&](double v) {
    const double f = (std::log10(std::max(v, 0.1)) - l0) / (l1 - l0);
    return std::clamp(static_cast<int>(f * kBins), 0, kBins - 1);
  };
  std::vector<std::vector<double>> share(series.size(), std::vector<double>(kBins, 0.0));
  double top = 0;
  for (size_t i = 0; i < series.size(); ++i) {
    for (double v : series[i].ms) share[i][bin_of(v)] += 1.0 / series[i].ms.size();
    for (double h : share[i]) top = std::max(top, h);
  }
  cv::line(roi, {x0, y1}, {x1, y1}, cv::Scalar(0, 0, 0));
  cv::line(roi, {x0, y0}, {x0, y1}, cv::Scalar(0, 0, 0));
  for (double d = l0; d <= l1 + 1e-9; d += 1) {
    const int x = x0 + static_cast<int>((d - l0) / (l1 - l0) * (x1 - x0));
    cv::line(roi, {x, y1}, {x, y1 + 4}, cv::Scalar(0, 0, 0));
    const double ms = std::pow(10.0, d);
    cv::putText(roi, ms >= 1 ? absl::StrFormat("%.0f ms", ms) : absl::StrFormat("%.1f ms", ms), {x - 18, y1 + 18},
                cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  }
  cv::putText(roi, absl::StrFormat("%.0f%%", 100 * top), {4, y0 + 10}, cv::FONT_HERSHEY_SIMPLEX, 0.4,
              cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  for (size_t i = 0; i < series.size(); ++i) {
    const cv::Scalar c = kColours[i % 5];
    std::vector<cv::Point> line;
    for (int b = 0; b < kBins; ++b) {
      const int y = y1 - static_cast<int>(share[i][b] / std::max(top, 1e-9) * (y1 - y0));
      line.emplace_back(x0 + b * (x1 - x0) / kBins, y);
      line.emplace_back(x0 + (b + 1) * (x1 - x0) / kBins, y);
    }
    cv::polylines(roi, line, false, c, 2, cv::LINE_AA);
    std::vector<double> v = series[i].ms;
    std::sort(v.begin(), v.end());
    auto q = [&v](double f) {  // the same rank rule as client/tools Quantile (the demo's tables)
      return v[std::max<size_t>(1, static_cast<size_t>(std::ceil(f * v.size()))) - 1];
    };
    const std::string legend = v.empty() ? absl::StrCat(series[i].name, ": none")
        : absl::StrFormat("%s: p50 %.0f, p99 %.0f ms (%d)", series[i].name, q(0.5), q(0.99), static_cast<int>(v.size()));
    cv::putText(roi, legend, {x1 + 10, y0 + 14 + 20 * static_cast<int>(i)}, cv::FONT_HERSHEY_SIMPLEX, 0.4, c, 1,
                cv::LINE_AA);
  }
}

}  // namespace

absl::Status WriteRowsPng(const std::vector<PlotRow>& rows, const std::vector<LatencySeries>& latency,
                          const std::string& title, const std::string& path) {
  const int width = kFrames * kFrameW + kTraceW;
  const int row_h = kHeader + kFrameH;
  const int hist_h = latency.empty() ? 0 : kHistH;
  cv::Mat img(kHeader + row_h * static_cast<int>(rows.size()) + hist_h, width, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(img, title, {8, 19}, cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  for (size_t i = 0; i < rows.size(); ++i) {
    const TaskReport& t = *rows[i].task;
    const int y0 = kHeader + static_cast<int>(i) * row_h;
    cv::putText(img, rows[i].label, {8, y0 + 19}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
    const std::vector<CameraFrame>* frames = t.results.empty() ? nullptr : &t.results.front().frames;
    for (int f = 0; frames != nullptr && f < kFrames && f < static_cast<int>(frames->size()); ++f) {
      const CameraFrame& cf = (*frames)[f];
      cv::Mat rgb(cf.height, cf.width, CV_8UC3, const_cast<uint8_t*>(cf.rgb.data()));
      cv::Mat bgr, small;
      cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
      cv::resize(bgr, small, {kFrameW, kFrameH}, 0, 0, cv::INTER_AREA);
      small.copyTo(img(cv::Rect(f * kFrameW, y0 + kHeader, kFrameW, kFrameH)));
    }
    DrawTraces(t, img(cv::Rect(kFrames * kFrameW, y0 + kHeader, kTraceW, kFrameH)));
  }
  if (hist_h > 0) DrawLatencyHistogram(latency, img(cv::Rect(0, img.rows - hist_h, width, hist_h)));
  if (!cv::imwrite(path, img)) return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

absl::Status WriteEvalPng(const EvalReport& report, const std::string& title, const std::string& path) {
  std::vector<PlotRow> rows;
  for (const TaskReport& t : report.tasks) {
    rows.push_back({absl::StrFormat(
                        "%s: success %d/%d (%.0f%%), completeness %.2f, time to success %s", t.task, t.successes,
                        t.episodes, 100 * t.success_rate, t.completeness,
                        t.mean_time_to_success_s >= 0 ? absl::StrFormat("%.1f s", t.mean_time_to_success_s)
                                                      : std::string("-")),
                    &t});
  }
  return WriteRowsPng(rows, {}, title, path);
}

}  // namespace mivla::client
