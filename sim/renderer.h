// File: renderer.h
// Headless offscreen rendering of MuJoCo cameras into 8-bit RGB images (top row first) through EGL:
// $EGL_PLATFORM defaults to "surfaceless" (Mesa's llvmpipe when there is no GPU), an OpenGL pbuffer
// context, then mjr_makeContext + mjFB_OFFSCREEN (docs/architecture.md, build facts). Image size is the model's
// offscreen buffer (<visual><global offwidth/offheight>, 320x240 for sim scenes).
//
//   ASSIGN_OR_RETURN(std::unique_ptr<Renderer> r, Renderer::Create());
//   ASSIGN_OR_RETURN(Image img, r->Render(model, data, "head"));
//
// Owns its EGL display/context and the MuJoCo render context of the last model rendered (rebuilt when
// a different model is passed: a different address, or the same address with other textures or meshes,
// as when a freed model's memory is reused by the next one). One Renderer is not thread-safe (its EGL
// context is made current on each call): use one per thread. Renderers on different threads may be
// created, used and destroyed independently; the process-wide EGL display and MuJoCo's GL loader
// behind them are guarded inside.
#ifndef MIVLA_SIM_RENDERER_H_
#define MIVLA_SIM_RENDERER_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mujoco/mujoco.h>

#include "absl/status/statusor.h"

namespace mivla::sim {

/// 8-bit interleaved R, G, B, row-major, top row first (the layout of core/data's RgbImage).
struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;
  const uint8_t* at(int x, int y) const { return rgb.data() + (static_cast<size_t>(y) * width + x) * 3; }
};

/// Pinhole intrinsics of a MuJoCo camera for an image of the given size (square pixels).
struct Intrinsics {
  double fx = 0, fy = 0, cx = 0, cy = 0;
};
Intrinsics CameraIntrinsics(double fovy_deg, int width, int height);

class Renderer {
 public:
  static absl::StatusOr<std::unique_ptr<Renderer>> Create();
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  /// Renders camera `camera` of `model` in state `data` (mjv_updateScene does not change the state).
  /// NotFound for an unknown camera name.
  absl::StatusOr<Image> Render(const mjModel* model, mjData* data, const std::string& camera);

 private:
  Renderer() = default;
  absl::Status Attach(const mjModel* model);

  void* display_ = nullptr;  // EGLDisplay
  void* context_ = nullptr;  // EGLContext
  void* surface_ = nullptr;  // EGLSurface
  const mjModel* attached_ = nullptr;
  uint64_t attached_fingerprint_ = 0;  // of the GPU-resident assets (textures, meshes): see Attach
  mjvScene scene_;
  mjrContext context_mjr_;
  mjvOption option_;
  bool mj_ready_ = false;
};

}  // namespace mivla::sim

#endif  // MIVLA_SIM_RENDERER_H_
