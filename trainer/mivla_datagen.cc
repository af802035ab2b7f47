// File: mivla_datagen.cc
// mivla-datagen: scripted-expert demonstrations from the MuJoCo task suite, written in the EgoDex
// (human) and RoboTwin 2.0 (robots) layouts by core/data's writers. See trainer/README.md.
//   mivla-datagen --task T --embodiment E --episodes N --mode easy|hard --seed S --out DIR [--workers K]
//                 [--policy-server HOST:PORT [--robot-config F] [--takeover-ticks MIN:MAX]]  (expert takeover)
//   mivla-datagen --list
//   mivla-datagen --preview --out FILE.png [--seed S] [--task T] [--scale F]
// Exit codes: 0 done, 1 a run error or episodes that could not be made, 2 bad flags.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "core/util/log.h"
#include "trainer/datagen/contact_sheet.h"
#include "trainer/datagen/flags.h"
#include "trainer/datagen/generator.h"

int main(int argc, char** argv) {
  using namespace mivla::datagen;
  const std::vector<std::string> args(argv + 1, argv + argc);
  absl::StatusOr<DatagenFlags> flags = ParseDatagenFlags(args);
  if (!flags.ok()) {
    std::cerr << "mivla-datagen: " << flags.status().message() << "\n" << DatagenUsage();
    return 2;
  }
  switch (flags->command) {
    case DatagenFlags::Command::kHelp:
      std::cout << DatagenUsage();
      return 0;
    case DatagenFlags::Command::kList:
      std::cout << ListJson() << "\n";
      return 0;
    case DatagenFlags::Command::kPreview: {
      ContactSheetOptions o;
      o.out_png = flags->preview.out_png;
      o.seed = flags->preview.seed;
      o.scale = flags->preview.scale;
      if (!flags->preview.task.empty()) o.tasks = {flags->preview.task};
      absl::StatusOr<ContactSheetReport> report = RenderContactSheet(o);
      if (!report.ok()) {
        std::cerr << "mivla-datagen: --preview: " << report.status().message() << "\n";
        return 1;
      }
      for (const std::string& w : report->warnings) std::cerr << "mivla-datagen: preview: " << w << "\n";
      std::cout << report->ToJson().dump() << "\n";
      return 0;
    }
    case DatagenFlags::Command::kGenerate:
      break;
  }
  // Expert takeover: the robot client's lines (safety clamps, reconnects) go to OUT/takeover.log, not over
  // the progress bar.
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> robot_log(nullptr, &std::fclose);
  if (!flags->generate.policy_server.empty()) {
    // A bad robot-client file stops the run here, before the output directory exists.
    if (absl::Status s = LoadTakeoverOptions(flags->generate).status(); !s.ok()) {
      std::cerr << "mivla-datagen: " << s.message() << "\n";
      return 1;
    }
    std::error_code ec;
    std::filesystem::create_directories(flags->generate.out_dir, ec);
    const std::string path = flags->generate.out_dir + "/takeover.log";
    robot_log.reset(std::fopen(path.c_str(), "a"));
    if (robot_log == nullptr) {
      std::cerr << "mivla-datagen: " << path << ": cannot open for writing\n";
      return 1;
    }
    mivla::SetLogQuiet(true);
    mivla::SetLogFile(robot_log.get());
  }
  absl::StatusOr<RunSummary> summary = RunDatagen(flags->generate);
  mivla::SetLogFile(nullptr);
  if (!summary.ok()) {
    std::cerr << "mivla-datagen: " << summary.status().message() << "\n";
    return 1;
  }
  std::cout << summary->ToJson().dump() << "\n";
  if (summary->failed > 0) {
    std::cerr << "mivla-datagen: " << summary->failed << " episode(s) had no successful expert rollout (see "
              << flags->generate.out_dir << "/summary.json)\n";
    return 1;
  }
  return 0;
}
