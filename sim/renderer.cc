// File: renderer.cc
#include "sim/renderer.h"

#include <EGL/egl.h>

#include <cmath>
#include <cstdlib>
#include <cstring>

#include "absl/base/const_init.h"
#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"

namespace mivla::sim {
namespace {

// Process-wide state behind every Renderer, guarded by one lock:
//  - MuJoCo's table of GL entry points, which mjr_makeContext reloads on every call. The loader
//    first clears its proc-address pointer, so a second load running at the same time can store
//    NULL entry points that a third thread then calls. Loads are serialised.
//  - The EGL display: eglGetDisplay returns one per process and eglTerminate ends it for every
//    context on it, so the last Renderer alive terminates it.
ABSL_CONST_INIT absl::Mutex g_process_gl_mu(absl::kConstInit);
int g_display_users ABSL_GUARDED_BY(g_process_gl_mu) = 0;

}  // namespace

Intrinsics CameraIntrinsics(double fovy_deg, int width, int height) {
  Intrinsics k;
  k.fy = 0.5 * height / std::tan(0.5 * fovy_deg * M_PI / 180.0);
  k.fx = k.fy;
  k.cx = 0.5 * width;
  k.cy = 0.5 * height;
  return k;
}

absl::StatusOr<std::unique_ptr<Renderer>> Renderer::Create() {
  std::unique_ptr<Renderer> r(new Renderer());  // declared before the lock: released first on an early return
  EGLDisplay display;
  {
    absl::MutexLock lock(&g_process_gl_mu);
    setenv("EGL_PLATFORM", "surfaceless", /*overwrite=*/0);
    display = eglGetDisplay(EGL_DEFAULT_DISPLAY);
    if (display == EGL_NO_DISPLAY) return absl::UnavailableError("Renderer: eglGetDisplay found no display");
    EGLint major = 0, minor = 0;
    if (!eglInitialize(display, &major, &minor)) {
      return absl::UnavailableError(absl::StrCat("Renderer: eglInitialize failed (EGL error 0x",
                                                 absl::Hex(eglGetError()), "); is libegl-mesa0 installed?"));
    }
    ++g_display_users;
    r->display_ = display;
  }
  const EGLint config_attribs[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8,
                                   EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8, EGL_DEPTH_SIZE, 24, EGL_RENDERABLE_TYPE,
                                   EGL_OPENGL_BIT, EGL_NONE};
  EGLConfig config;
  EGLint num_configs = 0;
  if (!eglChooseConfig(display, config_attribs, &config, 1, &num_configs) || num_configs < 1) {
    return absl::UnavailableError("Renderer: no EGL config with an OpenGL pbuffer");
  }
  const EGLint pbuffer_attribs[] = {EGL_WIDTH, 64, EGL_HEIGHT, 64, EGL_NONE};
  EGLSurface surface = eglCreatePbufferSurface(display, config, pbuffer_attribs);
  if (surface == EGL_NO_SURFACE) return absl::UnavailableError("Renderer: eglCreatePbufferSurface failed");
  r->surface_ = surface;
  if (!eglBindAPI(EGL_OPENGL_API)) return absl::UnavailableError("Renderer: eglBindAPI(OpenGL) failed");
  EGLContext context = eglCreateContext(display, config, EGL_NO_CONTEXT, nullptr);
  if (context == EGL_NO_CONTEXT) return absl::UnavailableError("Renderer: eglCreateContext failed");
  r->context_ = context;
  if (!eglMakeCurrent(display, surface, surface, context)) {
    return absl::UnavailableError("Renderer: eglMakeCurrent failed");
  }
  mjv_defaultScene(&r->scene_);
  mjr_defaultContext(&r->context_mjr_);
  mjv_defaultOption(&r->option_);
  return r;
}

Renderer::~Renderer() {
  if (display_ != nullptr) {
    eglMakeCurrent(display_, surface_, surface_, context_);
    if (mj_ready_) {
      mjr_freeContext(&context_mjr_);
      mjv_freeScene(&scene_);
    }
    eglMakeCurrent(display_, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
    if (context_ != nullptr) eglDestroyContext(display_, context_);
    if (surface_ != nullptr) eglDestroySurface(display_, surface_);
    absl::MutexLock lock(&g_process_gl_mu);
    if (--g_display_users == 0) eglTerminate(display_);
  }
}

namespace {

// FNV-1a over what mjr_makeContext uploads (texture pixels, mesh vertices) and the counts around it. A
// model allocated where a freed one lived has the same address; this tells the two apart.
uint64_t AssetFingerprint(const mjModel* m) {
  uint64_t h = 1469598103934665603ull;
  auto mix = [&h](const void* p, size_t n) {
    const auto* b = static_cast<const unsigned char*>(p);
    for (size_t i = 0; i < n; ++i) h = (h ^ b[i]) * 1099511628211ull;
  };
  const int counts[] = {m->ntex, m->ntexdata, m->nmesh, m->nmeshvert, m->ngeom, m->nmat, m->nskin, m->nhfield};
  mix(counts, sizeof(counts));
  if (m->ntexdata > 0) mix(m->tex_rgb, static_cast<size_t>(m->ntexdata));
  if (m->nmeshvert > 0) mix(m->mesh_vert, sizeof(float) * 3 * static_cast<size_t>(m->nmeshvert));
  return h;
}

}  // namespace

absl::Status Renderer::Attach(const mjModel* model) {
  const uint64_t fingerprint = AssetFingerprint(model);
  if (attached_ == model && attached_fingerprint_ == fingerprint && mj_ready_) return absl::OkStatus();
  if (mj_ready_) {
    mjr_freeContext(&context_mjr_);
    mjv_freeScene(&scene_);
    mj_ready_ = false;
  }
  mjv_defaultScene(&scene_);
  mjv_makeScene(model, &scene_, 2000);
  mjr_defaultContext(&context_mjr_);
  {
    absl::MutexLock lock(&g_process_gl_mu);
    mjr_makeContext(model, &context_mjr_, mjFONTSCALE_100);
  }
  mjr_setBuffer(mjFB_OFFSCREEN, &context_mjr_);
  if (context_mjr_.currentBuffer != mjFB_OFFSCREEN) {
    return absl::UnavailableError("Renderer: MuJoCo offscreen buffer not available");
  }
  attached_ = model;
  attached_fingerprint_ = fingerprint;
  mj_ready_ = true;
  return absl::OkStatus();
}

absl::StatusOr<Image> Renderer::Render(const mjModel* model, mjData* data, const std::string& camera) {
  if (!eglMakeCurrent(display_, surface_, surface_, context_)) {
    return absl::UnavailableError("Renderer: eglMakeCurrent failed");
  }
  const int cam_id = mj_name2id(model, mjOBJ_CAMERA, camera.c_str());
  if (cam_id < 0) return absl::NotFoundError(absl::StrCat("Renderer: model has no camera '", camera, "'"));
  if (absl::Status s = Attach(model); !s.ok()) return s;
  mjvCamera cam;
  mjv_defaultCamera(&cam);
  cam.type = mjCAMERA_FIXED;
  cam.fixedcamid = cam_id;
  mjv_updateScene(model, data, &option_, nullptr, &cam, mjCAT_ALL, &scene_);
  mjrRect viewport = {0, 0, model->vis.global.offwidth, model->vis.global.offheight};
  mjr_render(viewport, &scene_, &context_mjr_);
  Image img;
  img.width = viewport.width;
  img.height = viewport.height;
  std::vector<uint8_t> flipped(static_cast<size_t>(img.width) * img.height * 3);
  mjr_readPixels(flipped.data(), nullptr, viewport, &context_mjr_);
  img.rgb.resize(flipped.size());
  const size_t row = static_cast<size_t>(img.width) * 3;
  for (int y = 0; y < img.height; ++y) {
    std::memcpy(img.rgb.data() + y * row, flipped.data() + (img.height - 1 - y) * row, row);
  }
  return img;
}

}  // namespace mivla::sim
