// mivla-data: dataset tools for people checking episode files.
//
//   mivla-data inspect FILE [--frame world|camera] [--frames N] [--embodiment NAME] [--json]
//       Detects the format (egodex, robotwin, native) and prints the frame count, the instruction, per
//       camera its name, width, height and mean_rgb (mean R, G, B of the first frame as decoded, in RGB
//       order), and the first N (default 3) frames' unified 76-D vectors with their masks (human slice
//       in the requested frame, world by default). EgoDex files also get the layout check.
//       --embodiment: the embodiment of a RoboTwin file without our `embodiment` attribute (default aloha).
//   mivla-data check DIR [--json]
//       Loads every episode under DIR (progress on stderr); lists the ones that fail with path and reason.
//       Exit status 1 when any episode was skipped.
//   mivla-data synth --format egodex|robotwin|native --out PATH [--frames N] [--color R,G,B]
//       Writes a small synthetic episode (solid-colour frames) in the given layout, for smoke tests and
//       for seeing the layout: PATH is the .hdf5 file (egodex, native) or the config dir (robotwin).
#include <cmath>
#include <cstdio>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "core/data/egodex_format.h"
#include "core/data/episode_loader.h"
#include "core/data/native_format.h"
#include "core/data/robotwin_format.h"
#include "core/util/status_macros.h"
#include "nlohmann/json.hpp"

namespace {

namespace data = mivla::data;
namespace action = mivla::action;
using nlohmann::json;

constexpr const char* kUsage =
    "usage:\n"
    "  mivla-data inspect FILE [--frame world|camera] [--frames N] [--embodiment NAME] [--json]\n"
    "  mivla-data check DIR [--json]\n"
    "  mivla-data synth --format egodex|robotwin|native --out PATH [--frames N] [--color R,G,B]\n";

struct Args {
  std::string command;
  std::vector<std::string> positional;
  std::map<std::string, std::string> flags;
};

absl::StatusOr<Args> ParseArgs(int argc, char** argv) {
  Args a;
  if (argc < 2) return absl::InvalidArgumentError("missing command");
  a.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string s = argv[i];
    if (s.rfind("--", 0) != 0) {
      a.positional.push_back(s);
      continue;
    }
    s = s.substr(2);
    if (const size_t eq = s.find('='); eq != std::string::npos) {
      a.flags[s.substr(0, eq)] = s.substr(eq + 1);
    } else if (s == "json") {
      a.flags[s] = "1";
    } else if (i + 1 < argc) {
      a.flags[s] = argv[++i];
    } else {
      return absl::InvalidArgumentError(absl::StrCat("--", s, " needs a value"));
    }
  }
  return a;
}

absl::Status CheckFlags(const Args& a, const std::vector<std::string>& known, size_t positional) {
  for (const auto& [k, v] : a.flags) {
    if (std::find(known.begin(), known.end(), k) == known.end()) {
      return absl::InvalidArgumentError(absl::StrCat("unknown flag --", k, " for '", a.command, "'"));
    }
  }
  if (a.positional.size() != positional) {
    return absl::InvalidArgumentError(absl::StrCat("'", a.command, "' takes ", positional, " path argument(s), got ",
                                                   a.positional.size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<int> IntFlag(const Args& a, const std::string& name, int fallback, int min) {
  auto it = a.flags.find(name);
  if (it == a.flags.end()) return fallback;
  int v = 0;
  if (!absl::SimpleAtoi(it->second, &v) || v < min) {
    return absl::InvalidArgumentError(absl::StrCat("--", name, ": '", it->second, "' is not an integer >= ", min));
  }
  return v;
}

// Rounds to `digits` decimals (dividing by the power of ten keeps 0.2 printed as 0.2).
double Round(double v, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(v * scale) / scale;
}

absl::Status Inspect(const Args& a) {
  RETURN_IF_ERROR(CheckFlags(a, {"frame", "frames", "embodiment", "json"}, 1));
  const std::string& path = a.positional[0];
  data::LoadOptions o;
  auto frame_it = a.flags.find("frame");
  ASSIGN_OR_RETURN(o.frame, data::ParseHumanFrame(frame_it == a.flags.end() ? "world" : frame_it->second));
  if (auto it = a.flags.find("embodiment"); it != a.flags.end()) {
    auto tag = action::ParseEmbodiment(it->second);
    if (!tag.ok()) return absl::InvalidArgumentError(absl::StrCat("--embodiment: ", tag.status().message()));
    o.robotwin_default_embodiment = *tag;
  }
  ASSIGN_OR_RETURN(int frames, IntFlag(a, "frames", 3, 0));
  o.max_image_frames = 1;
  data::EpisodeFormat format;
  ASSIGN_OR_RETURN(data::UnifiedEpisode e, data::LoadUnifiedEpisode(path, o, &format));
  json j = {{"file", path},
            {"format", data::EpisodeFormatName(format)},
            {"embodiment", std::string(action::EmbodimentName(e.embodiment))},
            {"frames", e.num_frames()},
            {"instruction", e.instruction},
            {"instructions", e.instructions},
            {"human_frame", data::HumanFrameName(o.frame)}};
  json cams = json::array();
  for (const data::CameraStream& c : e.cameras) {
    json cam = {{"name", c.name}, {"width", c.width}, {"height", c.height}, {"mean_rgb", nullptr}};
    if (!c.frames.empty()) {
      auto m = data::MeanRgb(c.frames[0]);
      cam["mean_rgb"] = {Round(m[0], 2), Round(m[1], 2), Round(m[2], 2)};
    }
    cams.push_back(cam);
  }
  j["cameras"] = cams;
  json actions = json::array();
  for (int t = 0; t < std::min(frames, e.num_frames()); ++t) {
    std::vector<int> mask(action::kActionDim);
    for (int i = 0; i < action::kActionDim; ++i) mask[i] = e.masks[t][i] ? 1 : 0;
    std::vector<double> values(e.states[t].begin(), e.states[t].end());
    for (double& v : values) v = Round(v, 6);
    actions.push_back({{"frame", t}, {"values", values}, {"mask", mask}});
  }
  j["actions"] = actions;
  if (format == data::EpisodeFormat::kEgoDex) {
    ASSIGN_OR_RETURN(data::EgoDexLayoutReport r, data::CheckEgoDexLayout(path));
    j["layout_ok"] = r.ok();
    j["layout_problems"] = r.problems;
  }
  if (a.flags.count("json")) {
    std::cout << j.dump() << "\n";
    return absl::OkStatus();
  }
  std::cout << path << "\n  format:      " << j["format"].get<std::string>() << " (" << j["embodiment"].get<std::string>()
            << ")\n  frames:      " << e.num_frames() << "\n  instruction: " << (e.instruction.empty() ? "(none)" : e.instruction)
            << "\n";
  if (j.contains("layout_ok")) {
    std::cout << "  layout:      " << (j["layout_ok"].get<bool>() ? "ok" : "PROBLEMS") << "\n";
    for (const auto& p : j["layout_problems"]) std::cout << "    " << p.get<std::string>() << "\n";
  }
  for (const auto& c : j["cameras"]) {
    std::cout << absl::StrFormat("  camera %-14s %4dx%-4d", c["name"].get<std::string>(), c["width"].get<int>(),
                                 c["height"].get<int>());
    if (c["mean_rgb"].is_null()) {
      std::cout << " (no frames)\n";
    } else {
      std::cout << absl::StrFormat(" mean RGB of frame 0: %.1f %.1f %.1f\n", c["mean_rgb"][0].get<double>(),
                                   c["mean_rgb"][1].get<double>(), c["mean_rgb"][2].get<double>());
    }
  }
  for (int t = 0; t < std::min(frames, e.num_frames()); ++t) {
    std::cout << "  frame " << t << ":\n";
    for (const action::Slice& s : action::kAllSlices) {
      if (!e.masks[t][s.begin]) continue;
      std::vector<std::string> v;
      for (int i = s.begin; i < s.end(); ++i) v.push_back(absl::StrFormat("%.4f", e.states[t][i]));
      std::cout << absl::StrFormat("    %-18s [%d..%d] ", std::string(s.name), s.begin, s.end() - 1)
                << absl::StrJoin(v, " ") << "\n";
    }
  }
  return absl::OkStatus();
}

absl::Status Check(const Args& a) {
  RETURN_IF_ERROR(CheckFlags(a, {"json"}, 1));
  data::DatasetOptions o;
  o.load.load_images = false;
  const absl::Time start = absl::Now();
  o.on_progress = [&](int done, int total, const std::string&) {
    const double elapsed = absl::ToDoubleSeconds(absl::Now() - start);
    const double eta = done > 0 ? elapsed / done * (total - done) : 0;
    std::fprintf(stderr, "\r[%d/%d] %.1fs elapsed, ETA %.1fs ", done, total, elapsed, eta);
    if (done == total) std::fprintf(stderr, "\n");
  };
  std::vector<data::DatasetError> skipped;
  o.on_skip = [&](const data::DatasetError& e) { skipped.push_back(e); };
  ASSIGN_OR_RETURN(data::Dataset d, data::LoadDataset(a.positional[0], o));
  int frames = 0;
  for (const auto& e : d.episodes) frames += e.num_frames();
  json j = {{"dir", a.positional[0]}, {"episodes", d.episodes.size()}, {"frames", frames}, {"skipped", json::array()}};
  for (const auto& s : skipped) j["skipped"].push_back({{"path", s.path}, {"reason", s.reason}});
  if (a.flags.count("json")) {
    std::cout << j.dump() << "\n";
  } else {
    std::cout << d.episodes.size() << " episodes, " << frames << " frames loaded; " << skipped.size() << " skipped\n";
    for (const auto& s : skipped) std::cout << "  skipped " << s.path << ": " << s.reason << "\n";
  }
  return skipped.empty() ? absl::OkStatus() : absl::DataLossError(absl::StrCat(skipped.size(), " episode(s) skipped"));
}

absl::Status Synth(const Args& a) {
  RETURN_IF_ERROR(CheckFlags(a, {"format", "out", "frames", "color"}, 0));
  if (!a.flags.count("format") || !a.flags.count("out")) return absl::InvalidArgumentError("--format and --out are required");
  ASSIGN_OR_RETURN(int n, IntFlag(a, "frames", 4, 1));
  std::array<int, 3> rgb = {255, 0, 0};
  if (auto it = a.flags.find("color"); it != a.flags.end()) {
    std::vector<std::string> parts = absl::StrSplit(it->second, ',');
    for (int c = 0; c < 3; ++c) {
      if (parts.size() != 3 || !absl::SimpleAtoi(parts[c], &rgb[c]) || rgb[c] < 0 || rgb[c] > 255) {
        return absl::InvalidArgumentError(absl::StrCat("--color: '", it->second, "' is not R,G,B in 0..255"));
      }
    }
  }
  const data::RgbImage frame = data::RgbImage::Solid(64, 48, rgb[0], rgb[1], rgb[2]);
  const std::string format = a.flags.at("format"), out = a.flags.at("out");
  if (format == "egodex") {
    data::HumanEpisode h;
    h.intrinsic << 60, 0, 32, 0, 60, 24, 0, 0, 1;
    const char* joints[] = {"Hand", "ThumbKnuckle", "ThumbTip", "IndexFingerTip", "MiddleFingerTip", "RingFingerTip", "LittleFingerTip"};
    for (int t = 0; t < n; ++t) {
      Eigen::Matrix4d cam = Eigen::Matrix4d::Identity();
      cam(1, 3) = 1.5;
      h.transforms["camera"].push_back(cam);
      for (int s = 0; s < 2; ++s) {
        for (int k = 0; k < 7; ++k) {
          Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
          m.topRightCorner<3, 1>() = Eigen::Vector3d((s ? 0.2 : -0.2) + 0.01 * t + 0.02 * k, 1.0, -0.3 - 0.01 * k);
          h.transforms[absl::StrCat(s ? "right" : "left", joints[k])].push_back(m);
        }
      }
      h.video.frames.push_back(frame);
    }
    h.video.name = "camera";
    h.attributes = {{"llm_description", "synthetic episode"}, {"task", "synth"}};
    return data::WriteEgoDexEpisode(out, h);
  }
  data::RobotEpisode r;
  r.embodiment = action::Embodiment::kPiper;
  r.task = "synth";
  r.arms[1].present = true;
  for (int t = 0; t < n; ++t) {
    r.arms[1].joints.push_back({0.1 * t, 1.0, -1.0, 0.0, 0.5, 0.0});
    r.arms[1].gripper.push_back(0.01 * t);
    r.arms[1].endpose.push_back({0.3, 0.0, 0.2 + 0.01 * t, 1, 0, 0, 0});
  }
  data::CameraStream cam;
  cam.name = "head_camera";
  cam.frames.assign(n, frame);
  r.cameras.push_back(cam);
  r.instructions_seen = {"synthetic episode"};
  if (format == "robotwin") return data::WriteRoboTwinEpisode(out, 0, r);
  if (format == "native") {
    ASSIGN_OR_RETURN(data::UnifiedEpisode u, data::UnifyRobotEpisode(r));
    return data::WriteNativeEpisode(out, u);
  }
  return absl::InvalidArgumentError(absl::StrCat("--format: '", format, "' is not egodex, robotwin or native"));
}

}  // namespace

int main(int argc, char** argv) {
  auto args = ParseArgs(argc, argv);
  if (!args.ok()) {
    std::cerr << "mivla-data: " << args.status().message() << "\n" << kUsage;
    return 2;
  }
  absl::Status s;
  if (args->command == "inspect") {
    s = Inspect(*args);
  } else if (args->command == "check") {
    s = Check(*args);
  } else if (args->command == "synth") {
    s = Synth(*args);
  } else {
    std::cerr << "mivla-data: unknown command '" << args->command << "'\n" << kUsage;
    return 2;
  }
  if (!s.ok()) {
    std::cerr << "mivla-data: " << s.message() << "\n";
    return s.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
  }
  return 0;
}
