#include "core/model/safetensors.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/model/torch_status.h"
#include "core/util/read_file.h"
#include "core/util/status_macros.h"
#include "core/util/status_prefix.h"
#include "nlohmann/json.hpp"

namespace mivla::model {
namespace {

using Json = nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100ull << 20;  // same bound as the reference implementation

struct DtypeInfo {
  const char* name;
  torch::ScalarType type;
  int bytes;
};

constexpr DtypeInfo kDtypes[] = {
    {"F64", torch::kFloat64, 8}, {"F32", torch::kFloat32, 4}, {"F16", torch::kFloat16, 2},
    {"BF16", torch::kBFloat16, 2}, {"I64", torch::kInt64, 8}, {"I32", torch::kInt32, 4},
    {"I16", torch::kInt16, 2},   {"I8", torch::kInt8, 1},     {"U8", torch::kUInt8, 1},
    {"BOOL", torch::kBool, 1},
};

const DtypeInfo* DtypeByName(const std::string& name) {
  for (const DtypeInfo& d : kDtypes) {
    if (name == d.name) return &d;
  }
  return nullptr;
}

const DtypeInfo* DtypeByType(torch::ScalarType type) {
  for (const DtypeInfo& d : kDtypes) {
    if (type == d.type) return &d;
  }
  return nullptr;
}

uint64_t ReadU64Le(const std::string& bytes) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(bytes[i]);
  return v;
}

std::string U64Le(uint64_t v) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  return absl::StrCat("[", absl::StrJoin(shape, ", "), "]");
}

// Parses one header entry; `where` prefixes error messages.
absl::Status ParseEntry(const Json& j, const std::string& where, SafetensorsFile::Entry* e) {
  if (!j.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": entry is not a JSON object"));
  if (!j.contains("dtype") || !j["dtype"].is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": missing or non-string 'dtype'"));
  }
  e->dtype = j["dtype"].get<std::string>();
  const DtypeInfo* info = DtypeByName(e->dtype);
  if (info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": unknown or unsupported dtype '", e->dtype, "'"));
  }
  if (!j.contains("shape") || !j["shape"].is_array()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": missing or non-array 'shape'"));
  }
  uint64_t numel = 1;
  for (const Json& d : j["shape"]) {
    if (!d.is_number_unsigned()) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": shape entries must be non-negative integers"));
    }
    const uint64_t v = d.get<uint64_t>();
    if (v > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(numel, v, &numel)) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": shape overflows"));
    }
    e->shape.push_back(static_cast<int64_t>(v));
  }
  uint64_t nbytes = 0;
  if (__builtin_mul_overflow(numel, static_cast<uint64_t>(info->bytes), &nbytes)) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": byte size overflows"));
  }
  const Json* off = j.contains("data_offsets") ? &j["data_offsets"] : nullptr;
  if (off == nullptr || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned()) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": 'data_offsets' must be two non-negative integers [begin, end]"));
  }
  e->begin = (*off)[0].get<uint64_t>();
  e->end = (*off)[1].get<uint64_t>();
  if (e->end < e->begin) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": data_offsets end ", e->end, " < begin ", e->begin));
  }
  if (e->end - e->begin != nbytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": data_offsets [", e->begin, ", ", e->end, "] span ",
                                                   e->end - e->begin, " bytes but dtype ", e->dtype, " shape ",
                                                   ShapeString(e->shape), " needs ", nbytes));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SafetensorsFile> SafetensorsFile::Open(const std::string& path) {
  absl::StatusOr<std::string> bytes = ReadFile(path);
  if (!bytes.ok()) return WithPrefix(bytes.status(), "safetensors: ");
  return Parse(*std::move(bytes), path);
}

absl::StatusOr<SafetensorsFile> SafetensorsFile::Parse(std::string bytes, const std::string& source) {
  const std::string where = absl::StrCat("safetensors '", source, "'");
  if (bytes.size() < 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": ", bytes.size(), " bytes is too short for the 8-byte header length"));
  }
  const uint64_t n = ReadU64Le(bytes);
  if (n > kMaxHeaderBytes) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": header length ", n, " exceeds the limit"));
  }
  if (n > bytes.size() - 8) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": header length ", n, " runs past the end (",
                                                   bytes.size() - 8, " bytes after the length)"));
  }
  const char* hbegin = bytes.data() + 8;
  Json header = Json::parse(hbegin, hbegin + n, /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(where, ": header is not valid JSON"));
  if (!header.is_object()) return absl::InvalidArgumentError(absl::StrCat(where, ": header is not a JSON object"));

  SafetensorsFile file;
  file.source_ = source;
  file.data_start_ = 8 + n;
  const uint64_t data_size = bytes.size() - file.data_start_;
  try {
    for (auto it = header.begin(); it != header.end(); ++it) {
      if (it.key() == "__metadata__") {
        if (!it.value().is_object()) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": __metadata__ is not an object"));
        }
        for (auto m = it.value().begin(); m != it.value().end(); ++m) {
          if (!m.value().is_string()) {
            return absl::InvalidArgumentError(
                absl::StrCat(where, ": __metadata__ value for '", m.key(), "' is not a string"));
          }
          file.metadata_[m.key()] = m.value().get<std::string>();
        }
        continue;
      }
      Entry e;
      RETURN_IF_ERROR(ParseEntry(it.value(), absl::StrCat(where, " tensor '", it.key(), "'"), &e));
      if (e.end > data_size) {
        return absl::InvalidArgumentError(absl::StrCat(where, " tensor '", it.key(), "': data_offsets end ", e.end,
                                                       " beyond the data size ", data_size));
      }
      file.entries_[it.key()] = std::move(e);
    }
  } catch (const std::exception& ex) {  // defensive: nlohmann type errors
    return absl::InvalidArgumentError(absl::StrCat(where, ": malformed header (", ex.what(), ")"));
  }

  // The tensors must tile the data exactly: sorted by offset, each starts where the previous ended.
  std::vector<std::pair<const std::string*, const Entry*>> order;
  for (const auto& [name, e] : file.entries_) order.emplace_back(&name, &e);
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    return std::tie(a.second->begin, a.second->end) < std::tie(b.second->begin, b.second->end);
  });
  uint64_t cursor = 0;
  for (const auto& [name, e] : order) {
    if (e->begin != cursor) {
      return absl::InvalidArgumentError(absl::StrCat(
          where, " tensor '", *name, "': data_offsets [", e->begin, ", ", e->end, "] ",
          e->begin < cursor ? "overlap the previous tensor" : "leave a hole after the previous tensor", " (ends at ",
          cursor, ")"));
    }
    cursor = e->end;
  }
  if (cursor != data_size) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": tensors cover ", cursor, " bytes of data but the data section has ", data_size));
  }
  file.bytes_ = std::move(bytes);
  return file;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size());
  for (const auto& [name, e] : entries_) out.push_back(name);
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const { return entries_.count(name) > 0; }

const SafetensorsFile::Entry* SafetensorsFile::Find(const std::string& name) const {
  auto it = entries_.find(name);
  return it == entries_.end() ? nullptr : &it->second;
}

absl::StatusOr<torch::Tensor> SafetensorsFile::Get(const std::string& name) const {
  const Entry* e = Find(name);
  if (e == nullptr) {
    return absl::NotFoundError(absl::StrCat("safetensors '", source_, "': no tensor named '", name, "'"));
  }
  const DtypeInfo* info = DtypeByName(e->dtype);  // validated in Parse
  const std::string where = absl::StrCat("safetensors '", source_, "' tensor '", name, "': cannot allocate");
  return CatchTorchErrors(absl::StatusCode::kResourceExhausted, where, [&]() -> absl::StatusOr<torch::Tensor> {
    // BOOL is read as bytes and compared with 0, so a corrupt byte (not 0 or 1) never becomes an
    // invalid bool.
    const bool is_bool = info->type == torch::kBool;
    torch::Tensor t = torch::empty(e->shape, torch::TensorOptions().dtype(is_bool ? torch::kUInt8 : info->type));
    if (e->end > e->begin) std::memcpy(t.data_ptr(), bytes_.data() + data_start_ + e->begin, e->end - e->begin);
    return is_bool ? t.ne(0) : t;
  });
}

absl::StatusOr<std::string> SafetensorsDtypeName(torch::ScalarType type) {
  const DtypeInfo* info = DtypeByType(type);
  if (info == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("safetensors: unsupported dtype ", c10::toString(type)));
  }
  return std::string(info->name);
}

absl::StatusOr<std::string> SerializeSafetensors(const NamedTensors& tensors,
                                                 const std::map<std::string, std::string>& metadata) {
  Json header = Json::object();
  if (!metadata.empty()) {
    Json m = Json::object();
    for (const auto& [k, v] : metadata) m[k] = v;
    header["__metadata__"] = std::move(m);
  }
  std::vector<torch::Tensor> data;
  data.reserve(tensors.size());
  std::set<std::string> seen;
  uint64_t offset = 0;
  // Validates names and dtypes and gathers contiguous CPU copies; the header is written as it goes.
  const absl::Status gathered = CatchTorchErrors("safetensors", [&]() -> absl::Status {
    for (const auto& [name, tensor] : tensors) {
      if (name.empty() || name == "__metadata__" || !seen.insert(name).second) {
        return absl::InvalidArgumentError(absl::StrCat("safetensors: bad or duplicate tensor name '", name, "'"));
      }
      if (!tensor.defined()) {
        return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor '", name, "' is undefined"));
      }
      const DtypeInfo* info = DtypeByType(tensor.scalar_type());
      if (info == nullptr) {
        return absl::InvalidArgumentError(absl::StrCat("safetensors: tensor '", name, "' has unsupported dtype ",
                                                       c10::toString(tensor.scalar_type())));
      }
      torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
      const uint64_t nbytes = static_cast<uint64_t>(t.numel()) * info->bytes;
      header[name] = {{"dtype", info->name}, {"shape", t.sizes().vec()}, {"data_offsets", {offset, offset + nbytes}}};
      offset += nbytes;
      data.push_back(std::move(t));
    }
    return absl::OkStatus();
  });
  if (!gathered.ok()) return gathered;
  std::string json = header.dump();
  json.append((8 - json.size() % 8) % 8, ' ');
  std::string out = U64Le(json.size());
  out.reserve(8 + json.size() + offset);
  out += json;
  for (const torch::Tensor& t : data) {
    if (t.numel() == 0) continue;
    out.append(static_cast<const char*>(t.data_ptr()), static_cast<size_t>(t.numel()) * t.element_size());
  }
  return out;
}

absl::Status WriteSafetensors(const std::string& path, const NamedTensors& tensors,
                              const std::map<std::string, std::string>& metadata) {
  ASSIGN_OR_RETURN(const std::string bytes, SerializeSafetensors(tensors, metadata));
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("safetensors '", path, "': cannot open for writing"));
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("safetensors '", path, "': write failed"));
  return absl::OkStatus();
}

}  // namespace mivla::model
