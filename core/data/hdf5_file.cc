#include "core/data/hdf5_file.h"

#include <hdf5.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <numeric>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "core/util/status_macros.h"

namespace mivla::data {
namespace {

absl::Mutex g_hdf5_mu(absl::kConstInit);

// Closes an HDF5 handle of any kind when it goes out of scope.
class Handle {
 public:
  explicit Handle(hid_t id = -1) : id_(id) {}
  ~Handle() {
    if (id_ >= 0) {
      switch (H5Iget_type(id_)) {
        case H5I_FILE: H5Fclose(id_); break;
        case H5I_GROUP: H5Gclose(id_); break;
        case H5I_DATASET: H5Dclose(id_); break;
        case H5I_DATASPACE: H5Sclose(id_); break;
        case H5I_DATATYPE: H5Tclose(id_); break;
        case H5I_ATTR: H5Aclose(id_); break;
        case H5I_GENPROP_LST: H5Pclose(id_); break;
        default: break;
      }
    }
  }
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }

 private:
  hid_t id_;
};

void SilenceHdf5() { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); }

std::string Clean(const std::string& name) {
  std::string s = name;
  while (!s.empty() && s.front() == '/') s.erase(s.begin());
  return s.empty() ? "/" : s;
}

bool ExistsImpl(hid_t file, const std::string& name) {
  const std::string clean = Clean(name);
  if (clean == "/") return true;
  std::string prefix;
  for (absl::string_view part : absl::StrSplit(clean, '/', absl::SkipEmpty())) {
    prefix = prefix.empty() ? std::string(part) : absl::StrCat(prefix, "/", std::string(part));
    if (H5Lexists(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
    if (H5Oexists_by_name(file, prefix.c_str(), H5P_DEFAULT) <= 0) return false;
  }
  return true;
}

hid_t NativeType(Hdf5Type t) {
  switch (t) {
    case Hdf5Type::kFloat32: return H5T_NATIVE_FLOAT;
    case Hdf5Type::kFloat64: return H5T_NATIVE_DOUBLE;
    case Hdf5Type::kUint8: return H5T_NATIVE_UINT8;
    case Hdf5Type::kInt64: return H5T_NATIVE_INT64;
  }
  return H5T_NATIVE_DOUBLE;
}

}  // namespace

absl::StatusOr<std::unique_ptr<Hdf5File>> Hdf5File::Create(const std::string& path) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) return absl::InternalError(absl::StrCat(parent.string(), ": cannot create directory: ", ec.message()));
  absl::MutexLock lock(&g_hdf5_mu);
  SilenceHdf5();
  hid_t id = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (id < 0) return absl::InternalError(absl::StrCat(path, ": cannot create HDF5 file"));
  return std::unique_ptr<Hdf5File>(new Hdf5File(id, path));
}

absl::StatusOr<std::unique_ptr<Hdf5File>> Hdf5File::Open(const std::string& path) {
  absl::MutexLock lock(&g_hdf5_mu);
  SilenceHdf5();
  FILE* probe = std::fopen(path.c_str(), "rb");
  if (probe == nullptr) return absl::NotFoundError(absl::StrCat(path, ": cannot open (", std::strerror(errno), ")"));
  std::fclose(probe);
  if (H5Fis_hdf5(path.c_str()) <= 0) {
    return absl::DataLossError(absl::StrCat(path, ": not an HDF5 file (bad or missing signature)"));
  }
  hid_t id = H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT);
  if (id < 0) {
    return absl::DataLossError(absl::StrCat(path, ": cannot open HDF5 file (truncated or corrupt)"));
  }
  return std::unique_ptr<Hdf5File>(new Hdf5File(id, path));
}

Hdf5File::~Hdf5File() {
  absl::MutexLock lock(&g_hdf5_mu);
  H5Fclose(id_);
}

absl::Status Hdf5File::Error(const std::string& object, const std::string& what) const {
  return absl::DataLossError(absl::StrCat(path_, ": '", Clean(object), "': ", what));
}

bool Hdf5File::Exists(const std::string& name) const {
  absl::MutexLock lock(&g_hdf5_mu);
  return ExistsImpl(id_, name);
}

bool Hdf5File::IsGroup(const std::string& name) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, name)) return false;
  H5O_info_t info;
  if (H5Oget_info_by_name(id_, Clean(name).c_str(), &info, H5P_DEFAULT) < 0) return false;
  return info.type == H5O_TYPE_GROUP;
}

absl::StatusOr<std::vector<std::string>> Hdf5File::List(const std::string& group) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, group)) return Error(group, "group is missing");
  Handle g(H5Gopen2(id_, Clean(group).c_str(), H5P_DEFAULT));
  if (!g.ok()) return Error(group, "is not a group");
  H5G_info_t info;
  if (H5Gget_info(g.get(), &info) < 0) return Error(group, "cannot read group info");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    ssize_t n = H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) return Error(group, "cannot read member name");
    std::string name(static_cast<size_t>(n) + 1, '\0');
    H5Lget_name_by_idx(g.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(n));
    names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

namespace {

absl::StatusOr<std::vector<int64_t>> SpaceShape(hid_t space) {
  int rank = H5Sget_simple_extent_ndims(space);
  if (rank < 0) return absl::DataLossError("bad dataspace");
  std::vector<hsize_t> dims(static_cast<size_t>(rank));
  H5Sget_simple_extent_dims(space, dims.data(), nullptr);
  return std::vector<int64_t>(dims.begin(), dims.end());
}

}  // namespace

absl::StatusOr<std::vector<int64_t>> Hdf5File::Shape(const std::string& name) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, name)) return Error(name, "dataset is missing");
  Handle d(H5Dopen2(id_, Clean(name).c_str(), H5P_DEFAULT));
  if (!d.ok()) return Error(name, "is not a dataset or cannot be opened");
  Handle space(H5Dget_space(d.get()));
  auto shape = SpaceShape(space.get());
  if (!shape.ok()) return Error(name, "bad dataspace");
  return *shape;
}

absl::Status Hdf5File::EnsureParents(const std::string& name) {
  const std::string clean = Clean(name);
  std::vector<std::string> parts = absl::StrSplit(clean, '/', absl::SkipEmpty());
  std::string prefix;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    prefix = prefix.empty() ? parts[i] : absl::StrCat(prefix, "/", parts[i]);
    if (H5Lexists(id_, prefix.c_str(), H5P_DEFAULT) > 0) continue;
    Handle g(H5Gcreate2(id_, prefix.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    if (!g.ok()) return Error(prefix, "cannot create group");
  }
  return absl::OkStatus();
}

absl::Status Hdf5File::WriteNumeric(const std::string& name, const std::vector<int64_t>& shape,
                                    const std::vector<double>& values, Hdf5Type type) {
  absl::MutexLock lock(&g_hdf5_mu);
  const int64_t count = std::accumulate(shape.begin(), shape.end(), int64_t{1}, std::multiplies<>());
  if (count != static_cast<int64_t>(values.size())) {
    return absl::InvalidArgumentError(absl::StrCat(path_, ": '", name, "': ", values.size(),
                                                   " values for a shape of ", count));
  }
  RETURN_IF_ERROR(EnsureParents(name));
  std::vector<hsize_t> dims(shape.begin(), shape.end());
  Handle space(shape.empty() ? H5Screate(H5S_SCALAR)
                             : H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Handle d(H5Dcreate2(id_, Clean(name).c_str(), NativeType(type), space.get(), H5P_DEFAULT, H5P_DEFAULT,
                      H5P_DEFAULT));
  if (!d.ok()) return Error(name, "cannot create dataset");
  if (count > 0 && H5Dwrite(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()) < 0) {
    return Error(name, "write failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<Hdf5Array> Hdf5File::ReadNumeric(const std::string& name) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, name)) return Error(name, "dataset is missing");
  Handle d(H5Dopen2(id_, Clean(name).c_str(), H5P_DEFAULT));
  if (!d.ok()) return Error(name, "is not a dataset or cannot be opened");
  Handle type(H5Dget_type(d.get()));
  H5T_class_t cls = H5Tget_class(type.get());
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) return Error(name, "is not numeric");
  Handle space(H5Dget_space(d.get()));
  Hdf5Array out;
  auto shape = SpaceShape(space.get());
  if (!shape.ok()) return Error(name, "bad dataspace");
  out.shape = *shape;
  const int64_t count = std::accumulate(out.shape.begin(), out.shape.end(), int64_t{1}, std::multiplies<>());
  out.values.resize(static_cast<size_t>(count));
  if (count > 0 &&
      H5Dread(d.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, out.values.data()) < 0) {
    return Error(name, "read failed (truncated or corrupt data)");
  }
  return out;
}

absl::Status Hdf5File::WriteFixedBytes(const std::string& name, const std::vector<std::string>& items) {
  absl::MutexLock lock(&g_hdf5_mu);
  RETURN_IF_ERROR(EnsureParents(name));
  size_t width = 1;
  for (const std::string& s : items) width = std::max(width, s.size());
  std::vector<char> buf(width * items.size(), '\0');
  for (size_t i = 0; i < items.size(); ++i) std::memcpy(buf.data() + i * width, items[i].data(), items[i].size());
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), width);
  H5Tset_strpad(type.get(), H5T_STR_NULLPAD);
  hsize_t n = items.size();
  Handle space(H5Screate_simple(1, &n, nullptr));
  Handle d(H5Dcreate2(id_, Clean(name).c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!d.ok()) return Error(name, "cannot create dataset");
  if (n > 0 && H5Dwrite(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) {
    return Error(name, "write failed");
  }
  return absl::OkStatus();
}

namespace {

void StripNulls(std::string* s) {
  while (!s->empty() && s->back() == '\0') s->pop_back();
}

}  // namespace

absl::StatusOr<std::vector<std::string>> Hdf5File::ReadBytes(const std::string& name, bool strip_nulls) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, name)) return Error(name, "dataset is missing");
  Handle d(H5Dopen2(id_, Clean(name).c_str(), H5P_DEFAULT));
  if (!d.ok()) return Error(name, "is not a dataset or cannot be opened");
  Handle type(H5Dget_type(d.get()));
  if (H5Tget_class(type.get()) != H5T_STRING) return Error(name, "is not a byte-string dataset");
  Handle space(H5Dget_space(d.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  std::vector<std::string> out;
  if (H5Tis_variable_str(type.get()) > 0) {
    std::vector<char*> ptrs(static_cast<size_t>(n), nullptr);
    Handle mem(H5Tcopy(type.get()));  // same character set as the file (no ASCII<->UTF-8 conversion)
    if (n > 0 && H5Dread(d.get(), mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, ptrs.data()) < 0) {
      return Error(name, "read failed (truncated or corrupt data)");
    }
    for (char* p : ptrs) out.emplace_back(p ? p : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
    return out;
  }
  const size_t width = H5Tget_size(type.get());
  std::vector<char> buf(width * static_cast<size_t>(n));
  if (n > 0 && H5Dread(d.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) {
    return Error(name, "read failed (truncated or corrupt data)");
  }
  for (hssize_t i = 0; i < n; ++i) {
    out.emplace_back(buf.data() + i * width, width);
    if (strip_nulls) StripNulls(&out.back());
  }
  return out;
}

absl::StatusOr<std::string> Hdf5File::ReadBytesAt(const std::string& name, int64_t index,
                                                  bool strip_nulls) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, name)) return Error(name, "dataset is missing");
  Handle d(H5Dopen2(id_, Clean(name).c_str(), H5P_DEFAULT));
  if (!d.ok()) return Error(name, "is not a dataset or cannot be opened");
  Handle type(H5Dget_type(d.get()));
  if (H5Tget_class(type.get()) != H5T_STRING || H5Tis_variable_str(type.get()) > 0) {
    return Error(name, "is not a fixed-length byte-string dataset");
  }
  Handle space(H5Dget_space(d.get()));
  if (H5Sget_simple_extent_ndims(space.get()) != 1) return Error(name, "is not 1-D");
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  if (index < 0 || index >= n) return Error(name, absl::StrCat("index ", index, " out of range [0, ", n, ")"));
  const size_t width = H5Tget_size(type.get());
  hsize_t start = static_cast<hsize_t>(index), one = 1;
  H5Sselect_hyperslab(space.get(), H5S_SELECT_SET, &start, nullptr, &one, nullptr);
  Handle mem_space(H5Screate_simple(1, &one, nullptr));
  std::string out(width, '\0');
  if (H5Dread(d.get(), type.get(), mem_space.get(), space.get(), H5P_DEFAULT, out.data()) < 0) {
    return Error(name, "read failed (truncated or corrupt data)");
  }
  if (strip_nulls) StripNulls(&out);
  return out;
}

absl::Status Hdf5File::WriteStringAttribute(const std::string& object, const std::string& attr,
                                            const std::string& value) {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, object)) return Error(object, "object is missing");
  Handle obj(H5Oopen(id_, Clean(object).c_str(), H5P_DEFAULT));
  if (!obj.ok()) return Error(object, "cannot open object");
  Handle type(H5Tcopy(H5T_C_S1));
  H5Tset_size(type.get(), H5T_VARIABLE);
  H5Tset_cset(type.get(), H5T_CSET_UTF8);
  Handle space(H5Screate(H5S_SCALAR));
  if (H5Aexists(obj.get(), attr.c_str()) > 0) H5Adelete(obj.get(), attr.c_str());
  Handle a(H5Acreate2(obj.get(), attr.c_str(), type.get(), space.get(), H5P_DEFAULT, H5P_DEFAULT));
  if (!a.ok()) return Error(object, absl::StrCat("cannot create attribute '", attr, "'"));
  const char* ptr = value.c_str();
  if (H5Awrite(a.get(), type.get(), &ptr) < 0) return Error(object, absl::StrCat("cannot write attribute '", attr, "'"));
  return absl::OkStatus();
}

absl::StatusOr<std::string> Hdf5File::ReadStringAttribute(const std::string& object, const std::string& attr) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, object)) return Error(object, "object is missing");
  Handle obj(H5Oopen(id_, Clean(object).c_str(), H5P_DEFAULT));
  if (!obj.ok()) return Error(object, "cannot open object");
  if (H5Aexists(obj.get(), attr.c_str()) <= 0) {
    return absl::NotFoundError(absl::StrCat(path_, ": '", Clean(object), "': attribute '", attr, "' is missing"));
  }
  Handle a(H5Aopen(obj.get(), attr.c_str(), H5P_DEFAULT));
  Handle type(H5Aget_type(a.get()));
  Handle space(H5Aget_space(a.get()));
  const hssize_t n = H5Sget_simple_extent_npoints(space.get());
  const H5T_class_t cls = H5Tget_class(type.get());
  if (cls == H5T_STRING) {
    if (H5Tis_variable_str(type.get()) > 0) {
      std::vector<char*> ptrs(static_cast<size_t>(std::max<hssize_t>(n, 1)), nullptr);
      Handle mem(H5Tcopy(type.get()));  // same character set as the file
      if (H5Aread(a.get(), mem.get(), ptrs.data()) < 0) return Error(object, absl::StrCat("cannot read attribute '", attr, "'"));
      std::string out = ptrs[0] ? ptrs[0] : "";
      H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, ptrs.data());
      return out;
    }
    const size_t width = H5Tget_size(type.get());
    std::string out(width * static_cast<size_t>(std::max<hssize_t>(n, 1)), '\0');
    if (H5Aread(a.get(), type.get(), out.data()) < 0) return Error(object, absl::StrCat("cannot read attribute '", attr, "'"));
    out.resize(std::min(out.size(), width));
    StripNulls(&out);
    return out;
  }
  if ((cls == H5T_FLOAT || cls == H5T_INTEGER) && n == 1) {
    double v = 0;
    if (H5Aread(a.get(), H5T_NATIVE_DOUBLE, &v) < 0) return Error(object, absl::StrCat("cannot read attribute '", attr, "'"));
    return absl::StrCat(v);
  }
  return Error(object, absl::StrCat("attribute '", attr, "' is not a string or a numeric scalar"));
}

absl::StatusOr<std::vector<std::string>> Hdf5File::ListAttributes(const std::string& object) const {
  absl::MutexLock lock(&g_hdf5_mu);
  if (!ExistsImpl(id_, object)) return Error(object, "object is missing");
  Handle obj(H5Oopen(id_, Clean(object).c_str(), H5P_DEFAULT));
  if (!obj.ok()) return Error(object, "cannot open object");
  H5O_info_t info;
  if (H5Oget_info(obj.get(), &info) < 0) return Error(object, "cannot read object info");
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.num_attrs; ++i) {
    ssize_t n = H5Aget_name_by_idx(obj.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT);
    if (n < 0) continue;
    std::string name(static_cast<size_t>(n) + 1, '\0');
    H5Aget_name_by_idx(obj.get(), ".", H5_INDEX_NAME, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT);
    name.resize(static_cast<size_t>(n));
    names.push_back(name);
  }
  return names;
}

}  // namespace mivla::data
