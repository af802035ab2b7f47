// File: hdf5_file.h
// A small RAII layer over the HDF5 C API for the dataset formats: create/open a file, nested groups,
// numeric datasets of any rank (stored float32/float64/uint8, read back as double), fixed-length byte
// strings (RoboTwin's padded JPEG arrays), and string attributes (fixed or variable length, as h5py
// writes them). Every error names the file and the object path. HDF5's own error printing is turned
// off; callers get absl::Status instead.
// An Hdf5File owns its file handle (closed in the destructor). Debian's serial libhdf5 is not
// thread-safe, so every call takes one process-wide mutex: distinct Hdf5File objects may be used from
// different threads (serialised); one object is not meant for concurrent use.
//
//   ASSIGN_OR_RETURN(auto f, Hdf5File::Create(path));
//   RETURN_IF_ERROR(f->WriteNumeric("joint_action/left_arm", {T, 6}, values, Hdf5Type::kFloat64));
//   ASSIGN_OR_RETURN(Hdf5Array a, f->ReadNumeric("joint_action/left_arm"));  // a.shape == {T, 6}
#ifndef MIVLA_CORE_DATA_HDF5_FILE_H_
#define MIVLA_CORE_DATA_HDF5_FILE_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace mivla::data {

enum class Hdf5Type { kFloat32, kFloat64, kUint8, kInt64 };

/// A dataset read as doubles, row-major, with its shape (empty shape = scalar).
struct Hdf5Array {
  std::vector<int64_t> shape;
  std::vector<double> values;
  int64_t dim(int i) const { return i < static_cast<int>(shape.size()) ? shape[i] : 0; }
};

class Hdf5File {
 public:
  /// Creates (truncates) `path` for writing; missing parent directories are created.
  static absl::StatusOr<std::unique_ptr<Hdf5File>> Create(const std::string& path);
  /// Opens `path` read-only; a missing, truncated or non-HDF5 file is an error naming it.
  static absl::StatusOr<std::unique_ptr<Hdf5File>> Open(const std::string& path);
  ~Hdf5File();
  Hdf5File(const Hdf5File&) = delete;
  Hdf5File& operator=(const Hdf5File&) = delete;

  const std::string& path() const { return path_; }

  /// True if the link `name` (a/b/c) exists, checking each level.
  bool Exists(const std::string& name) const;
  bool IsGroup(const std::string& name) const;
  /// Member names of a group, sorted.
  absl::StatusOr<std::vector<std::string>> List(const std::string& group) const;
  /// Shape of a dataset.
  absl::StatusOr<std::vector<int64_t>> Shape(const std::string& name) const;

  /// Writes a dataset (parent groups are created). values.size() must equal the shape's product.
  absl::Status WriteNumeric(const std::string& name, const std::vector<int64_t>& shape,
                            const std::vector<double>& values, Hdf5Type type);
  absl::StatusOr<Hdf5Array> ReadNumeric(const std::string& name) const;

  /// Fixed-length byte strings of width max(len) (numpy `S{max_len}`, null-padded), one per element.
  absl::Status WriteFixedBytes(const std::string& name, const std::vector<std::string>& items);
  /// Reads a 1-D string dataset (fixed or variable length); fixed items keep their padding bytes
  /// unless `strip_nulls`, which removes trailing '\0's.
  absl::StatusOr<std::vector<std::string>> ReadBytes(const std::string& name, bool strip_nulls) const;
  /// Reads only element `index` of a 1-D fixed-length string dataset.
  absl::StatusOr<std::string> ReadBytesAt(const std::string& name, int64_t index, bool strip_nulls) const;

  /// String attribute on an object ("" or "/" = the root), written as a variable-length UTF-8 string.
  absl::Status WriteStringAttribute(const std::string& object, const std::string& attr,
                                    const std::string& value);
  /// Reads a string attribute (fixed or variable length); numeric scalars are formatted as text.
  absl::StatusOr<std::string> ReadStringAttribute(const std::string& object, const std::string& attr) const;
  /// Names of the attributes on an object.
  absl::StatusOr<std::vector<std::string>> ListAttributes(const std::string& object) const;

 private:
  Hdf5File(int64_t id, std::string path) : id_(id), path_(std::move(path)) {}
  absl::Status EnsureParents(const std::string& name);
  absl::Status Error(const std::string& object, const std::string& what) const;

  int64_t id_;  // hid_t
  std::string path_;
};

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_HDF5_FILE_H_
