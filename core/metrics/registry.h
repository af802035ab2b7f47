// File: registry.h
// Registry: owns metric families and renders them in the Prometheus text format 0.0.4.
//
//   Registry registry;
//   ASSIGN_OR_RETURN(Family<Histogram>* latency,
//                    registry.AddHistogram("mivla_stage_latency_seconds", "Stage latency.",
//                                          {"stage"}, Histogram::DefaultBounds()));
//   latency->WithLabels({"decode"}).value()->Observe(0.012);
//   std::string text = registry.Expose();
//
// Registering a name again with the same type, label names (and bounds) returns the existing family;
// with anything different it is AlreadyExists. Invalid metric or label names, `le` on a histogram,
// duplicate label names and names that clash with a histogram's _bucket/_sum/_count series are
// InvalidArgument / AlreadyExists.
//
// Thread safety: all methods may be called concurrently. Families live as long as the registry.
#ifndef MIVLA_CORE_METRICS_REGISTRY_H_
#define MIVLA_CORE_METRICS_REGISTRY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "core/metrics/family.h"

namespace mivla::metrics {

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  absl::StatusOr<Family<Counter>*> AddCounter(const std::string& name, const std::string& help,
                                              const std::vector<std::string>& label_names);
  absl::StatusOr<Family<Gauge>*> AddGauge(const std::string& name, const std::string& help,
                                          const std::vector<std::string>& label_names);
  /// `bounds`: finite, strictly increasing upper bounds; +Inf is implicit.
  absl::StatusOr<Family<Histogram>*> AddHistogram(const std::string& name, const std::string& help,
                                                  const std::vector<std::string>& label_names,
                                                  const std::vector<double>& bounds);

  /// Registers `hook` to run at the start of every Expose() (e.g. to refresh process gauges).
  /// Hooks run one at a time, in registration order, on the exposing thread.
  void AddCollectHook(std::function<void()> hook);

  /// All families ordered by name, in the text format 0.0.4 (ends with a newline when non-empty).
  std::string Expose() const;

 private:
  // Checks names and duplicates; returns the existing family (or nullptr when the name is new).
  absl::StatusOr<FamilyBase*> CheckNew(const std::string& name, const char* type_name,
                                       const std::vector<std::string>& label_names) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, std::unique_ptr<FamilyBase>> families_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::vector<double>> histogram_bounds_ ABSL_GUARDED_BY(mu_);

  mutable absl::Mutex hooks_mu_ ABSL_ACQUIRED_BEFORE(mu_);
  std::vector<std::function<void()>> hooks_ ABSL_GUARDED_BY(hooks_mu_);
};

}  // namespace mivla::metrics

#endif  // MIVLA_CORE_METRICS_REGISTRY_H_
