// File: mjcf_load.cc
#include "sim/mjcf_load.h"

#include <cstring>

#include "absl/strings/str_cat.h"

namespace mivla::sim {

absl::StatusOr<MjModelPtr> LoadMjcfFromString(const std::string& xml, absl::string_view who) {
  auto vfs = std::make_unique<mjVFS>();  // large (MuJoCo keeps the file table inline): not on the stack
  mj_defaultVFS(vfs.get());
  const char* kName = "scene.xml";
  if (mj_makeEmptyFileVFS(vfs.get(), kName, static_cast<int>(xml.size())) != 0) {
    return absl::InternalError(absl::StrCat(who, ": cannot allocate the MuJoCo virtual file"));
  }
  const int index = mj_findFileVFS(vfs.get(), kName);
  std::memcpy(vfs->filedata[index], xml.data(), xml.size());
  char error[1024] = {0};
  MjModelPtr model(mj_loadXML(kName, vfs.get(), error, sizeof(error)));
  mj_deleteVFS(vfs.get());
  if (model == nullptr) return absl::InvalidArgumentError(absl::StrCat(who, ": MJCF does not load: ", error));
  return model;
}

}  // namespace mivla::sim
