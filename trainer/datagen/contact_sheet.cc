// File: contact_sheet.cc
#include "trainer/datagen/contact_sheet.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "core/util/status_macros.h"
#include "sim/expert.h"
#include "sim/renderer.h"
#include "sim/rollout.h"
#include "sim/task.h"
#include "trainer/datagen/flags.h"
#include "trainer/datagen/generator.h"

namespace mivla::datagen {
namespace {

constexpr int kLabelHeight = 18;
constexpr int kRowLabelWidth = 170;
constexpr int kGap = 4;

struct Tile {
  SheetTile info;
  cv::Mat bgr;
};

cv::Mat ToBgr(const sim::Image& img) {
  cv::Mat rgb(img.height, img.width, CV_8UC3, const_cast<uint8_t*>(img.rgb.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

// Frames of every rig camera at `fraction` of a successful rollout of `eo` (seed chosen here).
absl::StatusOr<std::vector<Tile>> SceneTiles(sim::EpisodeOptions eo, uint64_t run_seed, int row, double fraction,
                                             sim::Renderer* renderer,
                                             std::vector<std::string>* warnings) {
  sim::Episode probe;
  for (int attempt = 0; attempt < 5; ++attempt) {
    eo.seed = EpisodeSeed(run_seed, row, attempt);
    eo.record = false;
    eo.render = false;
    ASSIGN_OR_RETURN(probe, sim::RunEpisode(eo));
    if (probe.success) break;
  }
  const std::string what = absl::StrCat(eo.task, " ", CliEmbodimentName(eo.embodiment), " ", sim::ModeName(eo.mode));
  if (!probe.success) warnings->push_back(absl::StrCat(what, ": no successful rollout in 5 seeds; showing seed ", eo.seed));
  const int step = static_cast<int>(probe.num_steps * fraction);
  ASSIGN_OR_RETURN(sim::EpisodeScene scene, sim::MakeEpisodeScene(eo));
  sim::SimEnv& env = *scene.env;
  ASSIGN_OR_RETURN(std::unique_ptr<sim::ExpertController> expert,
                   sim::ExpertController::Create(&env, scene.task->ExpertPlan(env, scene.context)));
  for (int k = 0; k < step; ++k) {
    if (absl::Status s = expert->Step(); !s.ok()) {
      warnings->push_back(absl::StrCat(what, ": the expert stopped at step ", k, ": ", s.message()));
      break;
    }
  }
  std::vector<Tile> tiles;
  for (const std::string& cam : env.rig().cameras) {
    ASSIGN_OR_RETURN(sim::Image img, renderer->Render(env.model(), const_cast<mjData*>(env.data()), cam));
    Tile t;
    t.bgr = ToBgr(img);
    t.info = {eo.task, CliEmbodimentName(eo.embodiment), sim::ModeName(eo.mode), cam, step, probe.num_steps, eo.seed};
    cv::Mat gray;
    cv::cvtColor(t.bgr, gray, cv::COLOR_BGR2GRAY);
    cv::Scalar mean, stddev;
    cv::meanStdDev(gray, mean, stddev);
    t.info.mean = mean[0];
    t.info.stddev = stddev[0];
    if (t.info.stddev < 4.0) warnings->push_back(absl::StrCat(what, " ", cam, ": a flat frame (blank?)"));
    if (t.info.mean < 12.0) warnings->push_back(absl::StrCat(what, " ", cam, ": a dark frame"));
    tiles.push_back(std::move(t));
  }
  return tiles;
}

void Label(cv::Mat& canvas, const std::string& text, int x, int y, double size, const cv::Scalar& colour) {
  cv::putText(canvas, text, cv::Point(x, y), cv::FONT_HERSHEY_SIMPLEX, size, colour, 1, cv::LINE_AA);
}

}  // namespace

nlohmann::json ContactSheetReport::ToJson() const {
  nlohmann::json tiles_json = nlohmann::json::array();
  for (const SheetTile& t : tiles) {
    tiles_json.push_back({{"task", t.task}, {"embodiment", t.embodiment}, {"mode", t.mode}, {"camera", t.camera},
                          {"step", t.step}, {"steps", t.steps}, {"seed", t.seed}, {"mean", t.mean},
                          {"stddev", t.stddev}});
  }
  return {{"path", path}, {"width", width}, {"height", height}, {"tiles", tiles_json}, {"warnings", warnings}};
}

absl::StatusOr<ContactSheetReport> RenderContactSheet(const ContactSheetOptions& options) {
  ASSIGN_OR_RETURN(std::unique_ptr<sim::Renderer> renderer, sim::Renderer::Create());
  ContactSheetReport report;
  report.path = options.out_png;
  struct Row {
    std::string task, embodiment;
    std::vector<Tile> tiles;
  };
  std::vector<Row> rows;
  const std::vector<const sim::Task*>& all = sim::AllTasks();
  for (size_t task_index = 0; task_index < all.size(); ++task_index) {
    const sim::Task* task = all[task_index];
    const std::string& name = task->spec().name;
    if (!options.tasks.empty() && std::find(options.tasks.begin(), options.tasks.end(), name) == options.tasks.end()) {
      continue;
    }
    const action::Embodiment robot = task->spec().two_arm ? action::Embodiment::kAlohaAgilex : action::Embodiment::kPiper;
    for (action::Embodiment e : {robot, action::Embodiment::kHuman}) {
      Row row{name, CliEmbodimentName(e), {}};
      for (sim::Mode mode : {sim::Mode::kEasy, sim::Mode::kHard}) {
        sim::EpisodeOptions eo;
        eo.task = name;
        eo.embodiment = e;
        eo.mode = mode;
        // Each task gets its own seed (episode index = task index), so hard mode shows its variety.
        ASSIGN_OR_RETURN(std::vector<Tile> tiles, SceneTiles(eo, options.seed, static_cast<int>(task_index),
                                                             options.frame_fraction, renderer.get(),
                                                             &report.warnings));
        for (Tile& t : tiles) row.tiles.push_back(std::move(t));
      }
      rows.push_back(std::move(row));
    }
  }
  if (rows.empty()) return absl::InvalidArgumentError("contact sheet: no tasks selected");
  const int tw = static_cast<int>(sim::kImageWidth * options.scale), th = static_cast<int>(sim::kImageHeight * options.scale);
  size_t columns = 0;
  for (const Row& r : rows) columns = std::max(columns, r.tiles.size());
  const int title_h = 28;
  report.width = kRowLabelWidth + static_cast<int>(columns) * (tw + kGap);
  report.height = title_h + static_cast<int>(rows.size()) * (th + kLabelHeight + kGap);
  cv::Mat canvas(report.height, report.width, CV_8UC3, cv::Scalar(40, 40, 40));
  Label(canvas, absl::StrFormat("mivla-datagen --preview (seed %d): frame at %.0f%% of a successful expert rollout",
                                options.seed, options.frame_fraction * 100),
        8, 19, 0.55, cv::Scalar(255, 255, 255));
  for (size_t r = 0; r < rows.size(); ++r) {
    const int y0 = title_h + static_cast<int>(r) * (th + kLabelHeight + kGap);
    Label(canvas, rows[r].task, 6, y0 + kLabelHeight + th / 2 - 8, 0.5, cv::Scalar(255, 255, 255));
    Label(canvas, rows[r].embodiment, 6, y0 + kLabelHeight + th / 2 + 14, 0.5, cv::Scalar(120, 220, 255));
    for (size_t c = 0; c < rows[r].tiles.size(); ++c) {
      const Tile& t = rows[r].tiles[c];
      const int x0 = kRowLabelWidth + static_cast<int>(c) * (tw + kGap);
      const cv::Scalar colour = t.info.mode == "hard" ? cv::Scalar(80, 160, 255) : cv::Scalar(160, 255, 160);
      Label(canvas, absl::StrCat(t.info.mode, " | ", t.info.camera, " | step ", t.info.step, "/", t.info.steps), x0 + 2,
            y0 + 13, 0.42, colour);
      cv::Mat resized;
      cv::resize(t.bgr, resized, cv::Size(tw, th), 0, 0, cv::INTER_AREA);
      resized.copyTo(canvas(cv::Rect(x0, y0 + kLabelHeight, tw, th)));
      report.tiles.push_back(t.info);
    }
  }
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(options.out_png).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (!cv::imwrite(options.out_png, canvas)) {
    return absl::InternalError(absl::StrCat(options.out_png, ": cannot write the PNG"));
  }
  return report;
}

}  // namespace mivla::datagen
