#include "bench/server_bench_plot.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace mivla::bench {
namespace {

const cv::Scalar kBlack(0, 0, 0), kGrid(225, 225, 225), kGrey(120, 120, 120);
const cv::Scalar kOn(180, 100, 20);   // batching on: blue (BGR)
const cv::Scalar kOff(30, 110, 235);  // batching off: orange
constexpr int kFont = cv::FONT_HERSHEY_SIMPLEX;

void Text(cv::Mat& img, const std::string& s, cv::Point at, double scale, const cv::Scalar& c, int thick = 1) {
  cv::putText(img, s, at, kFont, scale, c, thick, cv::LINE_AA);
}

cv::Size TextSize(const std::string& s, double scale, int thick = 1) {
  int base = 0;
  return cv::getTextSize(s, kFont, scale, thick, &base);
}

// Text rotated 90 degrees counter-clockwise, centred vertically on `centre_y`, left edge at x.
void VerticalText(cv::Mat& img, const std::string& s, int x, int centre_y, double scale) {
  cv::Size sz = TextSize(s, scale);
  cv::Mat strip(sz.height + 8, sz.width + 4, CV_8UC3, cv::Scalar(255, 255, 255));
  Text(strip, s, {2, sz.height + 2}, scale, kBlack);
  cv::Mat rotated;
  cv::rotate(strip, rotated, cv::ROTATE_90_COUNTERCLOCKWISE);
  const int y = std::max(0, centre_y - rotated.rows / 2);
  if (x + rotated.cols <= img.cols && y + rotated.rows <= img.rows) {
    rotated.copyTo(img(cv::Rect(x, y, rotated.cols, rotated.rows)));
  }
}

void DashedLine(cv::Mat& img, cv::Point2d a, cv::Point2d b, const cv::Scalar& c, int thick, double dash = 10) {
  const double len = std::hypot(b.x - a.x, b.y - a.y);
  for (double t = 0; t < len; t += 2 * dash) {
    const double t1 = std::min(len, t + dash);
    cv::line(img, a + (b - a) * (t / len), a + (b - a) * (t1 / len), c, thick, cv::LINE_AA);
  }
}

std::string Number(double v) {
  if (v >= 100) return absl::StrFormat("%.0f", v);
  if (v >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

// Tick values: 1-2-5 steps on a log axis, "nice" linear steps otherwise.
std::vector<double> Ticks(double lo, double hi, bool log_scale) {
  std::vector<double> t;
  if (log_scale) {
    for (int e = static_cast<int>(std::floor(std::log10(lo))); e <= static_cast<int>(std::ceil(std::log10(hi))); ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10.0, e);
        if (v >= lo * 0.999 && v <= hi * 1.001) t.push_back(v);
      }
    }
    return t;
  }
  const double raw = (hi - lo) / 6;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  }
  for (double v = std::ceil(lo / step) * step; v <= hi + 1e-9; v += step) t.push_back(v);
  return t;
}

struct Series {
  bool batching;
  bool p99;  // latency panel: dashed p99 line
  std::function<double(const PlotRow&)> value;
};

void Panel(cv::Mat& img, cv::Rect area, const std::vector<PlotRow>& rows, const std::vector<Series>& series, bool log_y,
           const std::string& title, const std::string& y_label, double ref_value, const std::string& ref_label,
           const std::string& note) {
  const cv::Rect plot(area.x + 95, area.y + 45, area.width - 125, area.height - 115);
  std::set<int> sessions;
  double lo = 1e30, hi = -1e30;
  for (const PlotRow& r : rows) {
    sessions.insert(r.sessions);
    for (const Series& s : series) {
      if (r.batching != s.batching) continue;
      lo = std::min(lo, s.value(r));
      hi = std::max(hi, s.value(r));
    }
  }
  if (ref_value > 0) lo = std::min(lo, ref_value), hi = std::max(hi, ref_value);
  if (log_y) {
    lo = std::pow(10.0, std::floor(std::log10(std::max(lo, 1e-3)) * 2) / 2);
    hi = std::pow(10.0, std::ceil(std::log10(std::max(hi, lo * 1.5)) * 2) / 2);
  } else {
    lo = 0;
    hi = hi <= 0 ? 1 : hi * 1.15;
  }
  auto fy = [&](double v) {
    const double f = log_y ? (std::log10(std::max(v, lo)) - std::log10(lo)) / (std::log10(hi) - std::log10(lo))
                           : (v - lo) / (hi - lo);
    return plot.y + plot.height * (1.0 - f);
  };
  const double x_lo = std::log2(*sessions.begin()), x_hi = std::log2(*sessions.rbegin());
  auto fx = [&](int n) {
    const double span = std::max(1.0, x_hi - x_lo);
    return plot.x + 70 + (plot.width - 140) * (std::log2(n) - x_lo) / span;
  };
  // Grid, ticks, labels.
  for (double v : Ticks(lo, hi, log_y)) {
    const int y = static_cast<int>(std::lround(fy(v)));
    cv::line(img, {plot.x, y}, {plot.x + plot.width, y}, kGrid, 1);
    const std::string s = absl::StrFormat("%g", v);
    Text(img, s, {plot.x - 10 - TextSize(s, 0.5).width, y + 5}, 0.5, kBlack);
  }
  for (int n : sessions) {
    const int x = static_cast<int>(std::lround(fx(n)));
    cv::line(img, {x, plot.y}, {x, plot.y + plot.height}, kGrid, 1);
    cv::line(img, {x, plot.y + plot.height}, {x, plot.y + plot.height + 6}, kBlack, 1);
    const std::string s = std::to_string(n);
    Text(img, s, {x - TextSize(s, 0.55).width / 2, plot.y + plot.height + 26}, 0.55, kBlack);
  }
  cv::rectangle(img, plot, kBlack, 1);
  const std::string x_label = "concurrent sessions (log scale)";
  Text(img, x_label, {plot.x + plot.width / 2 - TextSize(x_label, 0.6).width / 2, plot.y + plot.height + 56}, 0.6,
       kBlack);
  VerticalText(img, y_label, area.x + 8, plot.y + plot.height / 2, 0.6);
  Text(img, title, {plot.x + plot.width / 2 - TextSize(title, 0.7, 2).width / 2, area.y + 28}, 0.7, kBlack, 2);
  std::vector<cv::Rect> taken;  // the note, the reference label, markers and value labels already placed
  if (!note.empty()) {          // top left inside the plot, smaller where it would not fit
    const double scale = std::min(0.45, 0.45 * (plot.width - 20) / std::max(1, TextSize(note, 0.45).width));
    const cv::Size sz = TextSize(note, scale);
    const cv::Point at(plot.x + 8, plot.y + 8 + sz.height);
    const cv::Rect box(at.x - 3, at.y - sz.height - 3, sz.width + 6, sz.height + 7);
    cv::rectangle(img, box, cv::Scalar(255, 255, 255), cv::FILLED);
    Text(img, note, at, scale, kBlack);
    taken.push_back(box);
  }
  if (ref_value > 0) {
    const double y = fy(ref_value);
    DashedLine(img, {double(plot.x), y}, {double(plot.x + plot.width), y}, kGrey, 1, 4);
    const cv::Size sz = TextSize(ref_label, 0.45);
    const cv::Point at(plot.x + plot.width - sz.width - 6, static_cast<int>(y) - 6);
    Text(img, ref_label, at, 0.45, kGrey);
    taken.push_back(cv::Rect(at.x - 2, at.y - sz.height - 2, sz.width + 4, sz.height + 5));
  }
  // Series: lines and markers first, then the value labels over them.
  std::vector<std::vector<std::pair<cv::Point2d, double>>> points(series.size());
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    std::vector<std::pair<cv::Point2d, double>>& pts = points[k];
    for (const PlotRow& r : rows) {
      if (r.batching == s.batching) pts.push_back({{fx(r.sessions), fy(s.value(r))}, s.value(r)});
    }
    std::sort(pts.begin(), pts.end(), [](const auto& a, const auto& b) { return a.first.x < b.first.x; });
    const cv::Scalar& c = s.batching ? kOn : kOff;
    for (size_t i = 1; i < pts.size(); ++i) {
      if (s.p99) DashedLine(img, pts[i - 1].first, pts[i].first, c, 2);
      else cv::line(img, pts[i - 1].first, pts[i].first, c, 2, cv::LINE_AA);
    }
    for (const auto& [p, v] : pts) {
      if (s.p99) cv::rectangle(img, cv::Rect(int(p.x) - 5, int(p.y) - 5, 10, 10), c, cv::FILLED);
      else cv::circle(img, p, 6, c, cv::FILLED, cv::LINE_AA);
      taken.push_back(cv::Rect(int(p.x) - 6, int(p.y) - 6, 13, 13));
    }
  }
  for (size_t k = 0; k < series.size(); ++k) {
    const Series& s = series[k];
    for (const auto& [p, v] : points[k]) {
      // Batching on labelled left of its markers, off to the right; p99 above, p50 below, moved further
      // that way past labels and markers already placed.
      const std::string label = Number(v);
      const cv::Size sz = TextSize(label, 0.45);
      const int x = s.batching ? int(p.x) - sz.width - 9 : int(p.x) + 9;
      int y = int(p.y) + (s.p99 ? -8 : 18);
      const int step = s.p99 ? -3 : 3;
      const auto box = [&] { return cv::Rect(x - 2, y - sz.height - 2, sz.width + 4, sz.height + 5); };
      for (int tries = 0; tries < 12; ++tries) {
        const cv::Rect b = box();
        if (std::none_of(taken.begin(), taken.end(), [&](const cv::Rect& t) { return (t & b).area() > 0; })) break;
        y += step;
      }
      taken.push_back(box());
      cv::rectangle(img, box(), cv::Scalar(255, 255, 255), cv::FILLED);  // over the lines beneath
      Text(img, label, {x, y}, 0.45, s.batching ? kOn : kOff);
    }
  }
}

void Legend(cv::Mat& img, cv::Point at, bool with_p99) {
  int x = at.x;
  auto entry = [&](const cv::Scalar& c, bool dashed, const std::string& label) {
    const int y = at.y;
    if (dashed) DashedLine(img, {double(x), double(y)}, {double(x + 40), double(y)}, c, 2, 6);
    else cv::line(img, {x, y}, {x + 40, y}, c, 2, cv::LINE_AA);
    Text(img, label, {x + 48, y + 5}, 0.55, kBlack);
    x += 60 + TextSize(label, 0.55).width;
  };
  entry(kOn, false, with_p99 ? "batching on, p50" : "batching on");
  if (with_p99) entry(kOn, true, "batching on, p99");
  entry(kOff, false, with_p99 ? "batching off, p50" : "batching off");
  if (with_p99) entry(kOff, true, "batching off, p99");
}

}  // namespace

absl::Status WritePlot(const std::vector<PlotRow>& rows, double bare_ms, const std::string& title,
                       const std::string& path, const PlotNotes& notes) {
  if (rows.empty()) return absl::InvalidArgumentError("WritePlot: no rows to draw");
  for (const PlotRow& r : rows) {
    if (r.sessions < 1) return absl::InvalidArgumentError(absl::StrCat("WritePlot: sessions ", r.sessions, " < 1"));
  }
  cv::Mat img(640, 1500, CV_8UC3, cv::Scalar(255, 255, 255));
  Text(img, title, {20, 32}, 0.75, kBlack, 2);
  const std::vector<Series> latency = {
      {true, false, [](const PlotRow& r) { return r.p50_ms; }},
      {true, true, [](const PlotRow& r) { return r.p99_ms; }},
      {false, false, [](const PlotRow& r) { return r.p50_ms; }},
      {false, true, [](const PlotRow& r) { return r.p99_ms; }},
  };
  const std::vector<Series> throughput = {
      {true, false, [](const PlotRow& r) { return r.chunks_per_s; }},
      {false, false, [](const PlotRow& r) { return r.chunks_per_s; }},
  };
  Panel(img, {0, 50, 760, 540}, rows, latency, /*log_y=*/true, "Observe+Act round trip", "latency [ms] (log scale)",
        bare_ms, absl::StrFormat("bare model encode+decode %.1f ms", bare_ms), notes.latency);
  Panel(img, {760, 50, 740, 540}, rows, throughput, /*log_y=*/false, "Throughput", "action chunks per second", 0, "",
        notes.throughput);
  Legend(img, {95, 615}, /*with_p99=*/true);
  try {
    if (!cv::imwrite(path, img)) return absl::InternalError(absl::StrCat(path, ": could not write the PNG"));
  } catch (const cv::Exception& e) {
    return absl::InternalError(absl::StrCat(path, ": could not write the PNG: ", e.what()));
  }
  return absl::OkStatus();
}

}  // namespace mivla::bench
