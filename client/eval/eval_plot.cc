// File: eval_plot.cc
#include "client/eval/eval_plot.h"

#include <algorithm>
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

}  // namespace

absl::Status WriteEvalPng(const EvalReport& report, const std::string& title, const std::string& path) {
  const int width = kFrames * kFrameW + kTraceW;
  const int row_h = kHeader + kFrameH;
  cv::Mat img(kHeader + row_h * static_cast<int>(report.tasks.size()), width, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(img, title, {8, 19}, cv::FONT_HERSHEY_SIMPLEX, 0.55, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
  for (size_t i = 0; i < report.tasks.size(); ++i) {
    const TaskReport& t = report.tasks[i];
    const int y0 = kHeader + static_cast<int>(i) * row_h;
    const std::string line = absl::StrFormat(
        "%s: success %d/%d (%.0f%%), completeness %.2f, time to success %s", t.task, t.successes, t.episodes,
        100 * t.success_rate, t.completeness,
        t.mean_time_to_success_s >= 0 ? absl::StrFormat("%.1f s", t.mean_time_to_success_s) : std::string("-"));
    cv::putText(img, line, {8, y0 + 19}, cv::FONT_HERSHEY_SIMPLEX, 0.5, cv::Scalar(0, 0, 0), 1, cv::LINE_AA);
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
  if (!cv::imwrite(path, img)) return absl::InternalError(absl::StrCat("cannot write '", path, "'"));
  return absl::OkStatus();
}

}  // namespace mivla::client
