// File: render_guard.cc
#include "trainer/datagen/render_guard.h"

#include <cstring>
#include <string>

#include "absl/strings/str_cat.h"

namespace mivla::datagen {

absl::StatusOr<std::unique_ptr<RenderGuard>> RenderGuard::Create() {
  static const char kXml[] =
      "<mujoco><visual><global offwidth=\"32\" offheight=\"32\"/></visual><worldbody>"
      "<camera name=\"guard\" pos=\"0 0 1\"/><geom type=\"plane\" size=\"1 1 0.1\"/></worldbody></mujoco>";
  mjVFS vfs;
  mj_defaultVFS(&vfs);
  const int size = static_cast<int>(std::strlen(kXml));
  if (mj_makeEmptyFileVFS(&vfs, "guard.xml", size) != 0) return absl::InternalError("RenderGuard: VFS is full");
  std::memcpy(vfs.filedata[mj_findFileVFS(&vfs, "guard.xml")], kXml, size);
  char error[512] = "";
  mjModel* model = mj_loadXML("guard.xml", &vfs, error, sizeof(error));
  mj_deleteVFS(&vfs);
  if (model == nullptr) return absl::InternalError(absl::StrCat("RenderGuard: ", error));
  mjData* data = mj_makeData(model);
  mj_forward(model, data);
  return std::unique_ptr<RenderGuard>(new RenderGuard(model, data));
}

RenderGuard::~RenderGuard() {
  mj_deleteData(data_);
  mj_deleteModel(model_);
}

absl::Status RenderGuard::Reset(sim::Renderer* renderer) {
  absl::StatusOr<sim::Image> img = renderer->Render(model_, data_, "guard");
  return img.ok() ? absl::OkStatus() : img.status();
}

}  // namespace mivla::datagen
