// File: ablation_plot.cc
#include "trainer/ablation/ablation_plot.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace mivla::trainer::ablation {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const cv::Scalar kBlack(0, 0, 0), kGrid(225, 225, 225);
// BGR; distinct for up to 8 variants.
const cv::Scalar kColors[] = {{150, 150, 150}, {40, 120, 230}, {60, 170, 60}, {200, 90, 30},
                              {150, 60, 170},  {30, 190, 220}, {120, 80, 40}, {90, 90, 220}};

void Text(cv::Mat& img, const std::string& s, cv::Point at, double scale = 0.45, int thickness = 1) {
  cv::putText(img, s, at, cv::FONT_HERSHEY_SIMPLEX, scale, kBlack, thickness, cv::LINE_AA);
}

/// Grouped bars: one group per task (and "mean"), one bar per variant.
void DrawSuccess(cv::Mat& img, cv::Rect area, const json& r, const std::string& mode) {
  const int left = 45, bottom = 45, top = 28;
  const cv::Rect plot(area.x + left, area.y + top, area.width - left - 15, area.height - top - bottom);
  Text(img, absl::StrCat("success rate, ", mode, " mode (", r["eval"]["episodes"].get<int64_t>(),
                         " episodes per task)"), {plot.x, area.y + 18}, 0.5);
  for (int pct = 0; pct <= 100; pct += 25) {
    const int y = plot.y + plot.height - plot.height * pct / 100;
    cv::line(img, {plot.x, y}, {plot.x + plot.width, y}, kGrid, 1);
    Text(img, absl::StrCat(pct, "%"), {area.x + 4, y + 4}, 0.4);
  }
  std::vector<std::string> groups;
  for (const auto& t : r["eval"]["tasks"]) groups.push_back(t.get<std::string>());
  groups.push_back("mean");
  const int nv = static_cast<int>(r["variants"].size());
  const double group_w = static_cast<double>(plot.width) / groups.size();
  const double bar_w = group_w * 0.8 / std::max(1, nv);
  for (size_t g = 0; g < groups.size(); ++g) {
    const double x0 = plot.x + g * group_w + group_w * 0.1;
    for (int v = 0; v < nv; ++v) {
      const std::string name = r["variants"][v]["name"].get<std::string>();
      const json& s = r["summary"][name][mode];
      const json& val = groups[g] == "mean" ? s["success_rate"] : s["tasks"][groups[g]]["success_rate"];
      const double rate = val.is_number() ? val.get<double>() : 0.0;
      const int x = static_cast<int>(x0 + v * bar_w);
      const int h = static_cast<int>(std::lround(rate * plot.height));
      const cv::Rect bar(x, plot.y + plot.height - h, std::max(1, static_cast<int>(bar_w) - 2), std::max(h, 1));
      cv::rectangle(img, bar, kColors[v % 8], cv::FILLED);
      if (bar_w >= 22) Text(img, absl::StrFormat("%.0f", rate * 100), {x, bar.y - 4}, 0.35);
    }
    std::string label = groups[g];
    if (label.size() > 18) label = label.substr(0, 17) + ".";
    Text(img, label, {static_cast<int>(x0), plot.y + plot.height + 18}, 0.4);
  }
  cv::rectangle(img, plot, kBlack, 1);
}

/// Total training loss against step (log scale) of every run of one kind.
void DrawCurves(cv::Mat& img, cv::Rect area, const json& r, const std::string& kind) {
  const int left = 60, bottom = 35, top = 28;
  const cv::Rect plot(area.x + left, area.y + top, area.width - left - 15, area.height - top - bottom);
  Text(img, absl::StrCat(kind, " loss (total, log scale) against step"), {plot.x, area.y + 18}, 0.5);
  std::vector<std::pair<int, std::vector<std::pair<int64_t, double>>>> runs;
  double lo = INFINITY, hi = -INFINITY;
  int64_t s1 = 1;
  for (const auto& t : r["training"]) {
    if (t.value("kind", "") != kind) continue;
    int v = 0;
    for (size_t i = 0; i < r["variants"].size(); ++i) {
      if (r["variants"][i]["name"] == t["variant"]) v = static_cast<int>(i);
    }
    auto curve = ReadLossCurve(t.value("dir", ""));
    for (const auto& [step, loss] : curve) {
      if (loss > 0 && std::isfinite(loss)) lo = std::min(lo, loss), hi = std::max(hi, loss);
      s1 = std::max(s1, step);
    }
    runs.emplace_back(v, std::move(curve));
  }
  cv::rectangle(img, plot, kBlack, 1);
  if (runs.empty() || !(lo < INFINITY)) {
    Text(img, "no training logs", {plot.x + 10, plot.y + 30});
    return;
  }
  // Log scale over the data's range with a little margin; five labelled ticks.
  const double span = std::max(0.02, std::log10(hi) - std::log10(lo));
  const double llo = std::log10(lo) - 0.05 * span, lhi = std::log10(hi) + 0.05 * span;
  auto px = [&](int64_t step, double v) {
    return cv::Point(plot.x + static_cast<int>(static_cast<double>(step) / static_cast<double>(s1) * plot.width),
                     plot.y + plot.height - static_cast<int>((std::log10(v) - llo) / (lhi - llo) * plot.height));
  };
  for (int k = 0; k <= 4; ++k) {
    const double v = std::pow(10.0, llo + (lhi - llo) * k / 4.0);
    const int y = px(0, v).y;
    cv::line(img, {plot.x, y}, {plot.x + plot.width, y}, kGrid, 1);
    Text(img, absl::StrFormat("%.3g", v), {area.x + 4, y + 4}, 0.38);
  }
  Text(img, "0", {plot.x, plot.y + plot.height + 16}, 0.4);
  Text(img, absl::StrCat("step ", s1), {plot.x + plot.width - 75, plot.y + plot.height + 16}, 0.4);
  for (const auto& [v, curve] : runs) {
    std::vector<cv::Point> pts;
    for (const auto& [step, loss] : curve) {
      if (loss > 0 && std::isfinite(loss)) pts.push_back(px(step, loss));
    }
    // Earlier variants are drawn first and wider, so a curve that coincides with a later one still
    // shows as a border around it.
    const int width = 2 + 2 * std::max(0, static_cast<int>(r["variants"].size()) - 1 - v);
    if (pts.size() == 1) cv::circle(img, pts[0], width + 1, kColors[v % 8], cv::FILLED);
    cv::polylines(img, pts, false, kColors[v % 8], width, cv::LINE_AA);
  }
}

}  // namespace

std::vector<std::pair<int64_t, double>> ReadLossCurve(const std::string& dir) {
  std::vector<std::pair<int64_t, double>> out;
  std::ifstream in((fs::path(dir) / "train_log.csv").string());
  std::string line;
  while (std::getline(in, line)) {
    std::vector<absl::string_view> cells = absl::StrSplit(line, ',');
    int64_t step;
    double loss;
    if (cells.size() >= 2 && absl::SimpleAtoi(cells[0], &step) && absl::SimpleAtod(cells[1], &loss)) {
      out.emplace_back(step, loss);
    }
  }
  return out;
}

absl::Status WriteAblationPng(const json& results, const std::string& path) {
  constexpr int kW = 1280, kPanelH = 330, kLegendH = 40;
  const int modes = std::max<int>(1, static_cast<int>(results["eval"]["modes"].size()));
  cv::Mat img(kLegendH + 2 * kPanelH, kW, CV_8UC3, cv::Scalar(255, 255, 255));
  int x = 10;
  for (size_t v = 0; v < results["variants"].size(); ++v) {
    const json& var = results["variants"][v];
    const std::string label = absl::StrCat("(", var["name"].get<std::string>(), ") ", var["label"].get<std::string>());
    cv::rectangle(img, cv::Rect(x, 14, 18, 14), kColors[v % 8], cv::FILLED);
    Text(img, label, {x + 24, 26}, 0.5);
    int baseline = 0;
    x += 45 + cv::getTextSize(label, cv::FONT_HERSHEY_SIMPLEX, 0.5, 1, &baseline).width;
  }
  for (int m = 0; m < modes; ++m) {
    DrawSuccess(img, cv::Rect(m * kW / modes, kLegendH, kW / modes, kPanelH), results,
                results["eval"]["modes"][m].get<std::string>());
  }
  DrawCurves(img, cv::Rect(0, kLegendH + kPanelH, kW / 2, kPanelH), results, "pretrain");
  DrawCurves(img, cv::Rect(kW / 2, kLegendH + kPanelH, kW / 2, kPanelH), results, "finetune");
  const std::string tmp = (fs::path(path).parent_path() / ("." + fs::path(path).filename().string() + ".tmp.png")).string();
  if (!cv::imwrite(tmp, img)) return absl::InternalError(absl::StrCat(path, ": cannot write the PNG"));
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return absl::InternalError(absl::StrCat(path, ": rename failed: ", ec.message()));
  return absl::OkStatus();
}

}  // namespace mivla::trainer::ablation
