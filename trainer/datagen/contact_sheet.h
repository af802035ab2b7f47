// File: contact_sheet.h
// mivla-datagen --preview: a PNG contact sheet so a person can see every scene. One row per task and
// embodiment kind (robot: PiPER for one-arm tasks, ALOHA-AgileX for two-arm tasks; human: the hands),
// one tile per camera and mode (easy, then hard), each a frame from the middle of a successful
// scripted-expert rollout (45% of its length, when the effector is near the objects), labelled with
// task, embodiment, mode, camera and step. Per-tile statistics (mean and spread of the brightness)
// come back so that black or flat frames can be caught automatically.
// Not thread-safe (one EGL renderer); call from one thread.
#ifndef MIVLA_TRAINER_DATAGEN_CONTACT_SHEET_H_
#define MIVLA_TRAINER_DATAGEN_CONTACT_SHEET_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace mivla::datagen {

struct ContactSheetOptions {
  std::string out_png;
  uint64_t seed = 0;
  double scale = 0.75;          // tile size relative to the 320x240 frames
  double frame_fraction = 0.45; // which step of the rollout is shown
  std::vector<std::string> tasks;  // empty: all tasks
};

struct SheetTile {
  std::string task, embodiment, mode, camera;
  int step = 0, steps = 0;
  uint64_t seed = 0;
  double mean = 0.0;    // mean brightness 0..255
  double stddev = 0.0;  // brightness spread; ~0 for a blank frame
};

struct ContactSheetReport {
  std::string path;
  int width = 0, height = 0;
  std::vector<SheetTile> tiles;
  std::vector<std::string> warnings;  // blank/dark tiles, rollouts that never succeeded
  nlohmann::json ToJson() const;
};

absl::StatusOr<ContactSheetReport> RenderContactSheet(const ContactSheetOptions& options);

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_CONTACT_SHEET_H_
