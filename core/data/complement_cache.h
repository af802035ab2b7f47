// File: complement_cache.h
// The on-disk cache of mutual-imitation complements (complements.h). One file per (episode file, options)
// in the cache directory, named by a hash of the key; the key (stored in the file and compared on read) is
//   complement version | path | file size | mtime (ns) | embodiment | human_target | load options |
//   hash of the embodiment + human JSON texts used,
// where path is the episode's path relative to ComplementOptions::dataset_root when it lies under it (so
// a dataset moved or copied with its cache folder, mtimes kept, still hits), else its absolute path.
// A changed episode file, a changed kinematics description or a new mapping version is a miss.
// The default cache folder sits beside the dataset: <dataset>/.mivla_complements (DatasetComplementCacheDir).
// File layout (native little-endian): magic "MVCMPL01", key length (u64) + key, frames, ik_failures,
// complement embodiment (i32 each); per frame the mask (2 x u64) and the set slots' values (f64 each);
// then an FNV-1a 64 checksum of everything before it. Anything that does not check out (size, magic,
// checksum, key, frame count, masks overlapping the labelled slots, non-finite values) is a miss: the
// caller recomputes and rewrites. Writes go to a unique temporary name and are renamed into place, so a
// reader never sees half a file. Thread-safe functions.
#ifndef MIVLA_CORE_DATA_COMPLEMENT_CACHE_H_
#define MIVLA_CORE_DATA_COMPLEMENT_CACHE_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "core/data/complements.h"

namespace mivla::data {

/// Bumped whenever the complement computation changes (invalidates every cache entry).
inline constexpr int kComplementVersion = 1;
/// The cache folder's name inside a dataset directory (a dot folder: dataset listings skip it).
inline constexpr char kDatasetCacheFolder[] = ".mivla_complements";

/// <dataset_dir>/.mivla_complements, created if needed and checked writable (a probe file is written
/// and removed). Error naming the folder and the reason when the dataset is read-only or the folder
/// cannot be created (the caller falls back to another cache folder); NotFound when dataset_dir is not a
/// directory (nothing is created).
absl::StatusOr<std::string> DatasetComplementCacheDir(const std::string& dataset_dir);

/// Errors when the episode file or the kinematics files cannot be stat'ed / read.
absl::StatusOr<std::string> ComplementCacheKey(const std::string& episode_path, action::Embodiment embodiment,
                                               const LoadOptions& load, const ComplementOptions& options);
/// The cache file for `key` under `cache_dir`.
std::string ComplementCachePath(const std::string& cache_dir, const std::string& key);

/// On a valid entry: writes the cached values into episode->states, sets complement_masks,
/// complement_embodiment and *report (frames, ik_failures), returns true. Otherwise leaves `episode`
/// unchanged and returns false.
bool ReadCachedComplements(const std::string& cache_dir, const std::string& key, UnifiedEpisode* episode,
                           ComplementReport* report);
/// Creates cache_dir if needed; atomic (temporary file + rename).
absl::Status WriteCachedComplements(const std::string& cache_dir, const std::string& key,
                                    const UnifiedEpisode& episode, const ComplementReport& report);

}  // namespace mivla::data

#endif  // MIVLA_CORE_DATA_COMPLEMENT_CACHE_H_
