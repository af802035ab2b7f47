// File: render_guard.h
// Works around a stale-render hazard of sim::Renderer: it keeps the MuJoCo render context (textures,
// meshes) of the last model it drew and rebuilds it only when a model at a *different address* is
// passed. Every rollout builds and frees its own mjModel, and the allocator often hands the next
// model the same address, so the next episode would be drawn with the previous scene's textures
// (seen in the contact sheet: a hard-mode table drawn white, its texture missing).
// RenderGuard owns a tiny model that stays alive; Reset() draws it once (32x32), so the renderer is
// attached to a model no rollout can share an address with and must rebuild for the next one.
// Call Reset(renderer) before each rollout that reuses a renderer. Not thread-safe: one per thread.
#ifndef MIVLA_TRAINER_DATAGEN_RENDER_GUARD_H_
#define MIVLA_TRAINER_DATAGEN_RENDER_GUARD_H_

#include <memory>

#include <mujoco/mujoco.h>

#include "absl/status/statusor.h"
#include "sim/renderer.h"

namespace mivla::datagen {

class RenderGuard {
 public:
  static absl::StatusOr<std::unique_ptr<RenderGuard>> Create();
  ~RenderGuard();
  RenderGuard(const RenderGuard&) = delete;
  RenderGuard& operator=(const RenderGuard&) = delete;

  /// Attaches `renderer` to the guard's own model.
  absl::Status Reset(sim::Renderer* renderer);

 private:
  RenderGuard(mjModel* model, mjData* data) : model_(model), data_(data) {}
  mjModel* model_;
  mjData* data_;
};

}  // namespace mivla::datagen

#endif  // MIVLA_TRAINER_DATAGEN_RENDER_GUARD_H_
