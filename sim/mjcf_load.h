// File: mjcf_load.h
// Loads an MJCF (MuJoCo XML) document held in a string into an owned mjModel, through a MuJoCo
// virtual file system, so no file is written. Thread-safe (each call has its own VFS).
#ifndef MIVLA_SIM_MJCF_LOAD_H_
#define MIVLA_SIM_MJCF_LOAD_H_

#include <memory>
#include <string>

#include <mujoco/mujoco.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace mivla::sim {

struct MjModelDeleter {
  void operator()(mjModel* m) const { mj_deleteModel(m); }
};
/// An mjModel owned by the caller; freed with mj_deleteModel.
using MjModelPtr = std::unique_ptr<mjModel, MjModelDeleter>;

/// Compiles `xml` (no include files or assets: everything is inline). Errors start with `who`:
/// InvalidArgument "<who>: MJCF does not load: <MuJoCo's parse/compile message>" for bad MJCF,
/// Internal when the virtual file cannot be allocated.
absl::StatusOr<MjModelPtr> LoadMjcfFromString(const std::string& xml, absl::string_view who);

}  // namespace mivla::sim

#endif  // MIVLA_SIM_MJCF_LOAD_H_
