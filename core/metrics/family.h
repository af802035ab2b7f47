// File: family.h
// Family<T>: one named metric (Counter, Gauge or Histogram) with fixed label names, holding one child
// per distinct tuple of label values. Families are created and owned by a Registry (registry.h).
//
//   Family<Counter>* requests = registry.AddCounter("mivla_requests_total", "RPCs.", {"rpc", "code"})
//                                   .value();
//   Counter* act_ok = requests->WithLabels({"Act", "OK"}).value();  // stable until the registry dies
//   act_ok->Inc();
//
// Thread safety: WithLabels and Render may be called concurrently from any thread. Looking up an
// existing child takes a shared (reader) lock only; creating one takes the exclusive lock once.
// Children are never removed, so returned pointers stay valid for the life of the family.
#ifndef MIVLA_CORE_METRICS_FAMILY_H_
#define MIVLA_CORE_METRICS_FAMILY_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "core/metrics/counter.h"
#include "core/metrics/histogram.h"

namespace mivla::metrics {

/// Type-erased part of a family, used by the Registry for exposition and duplicate checks.
class FamilyBase {
 public:
  FamilyBase(std::string name, std::string help, std::vector<std::string> label_names)
      : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}
  virtual ~FamilyBase() = default;

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }
  virtual const char* type_name() const = 0;

  /// Appends `# HELP`, `# TYPE` and every child's samples (ordered by label values) to `out`.
  void Render(std::string* out) const;

 protected:
  virtual void RenderSamples(std::string* out) const = 0;

 private:
  const std::string name_;
  const std::string help_;
  const std::vector<std::string> label_names_;
};

namespace internal {
void RenderChild(const FamilyBase& family, const std::vector<std::string>& values, const Counter& c,
                 std::string* out);
void RenderChild(const FamilyBase& family, const std::vector<std::string>& values, const Gauge& g,
                 std::string* out);
void RenderChild(const FamilyBase& family, const std::vector<std::string>& values,
                 const Histogram& h, std::string* out);
}  // namespace internal

template <typename T>
class Family final : public FamilyBase {
 public:
  /// `make_child` builds a fresh child (it carries a histogram's bounds).
  Family(std::string name, std::string help, std::vector<std::string> label_names,
         std::function<std::unique_ptr<T>()> make_child)
      : FamilyBase(std::move(name), std::move(help), std::move(label_names)),
        make_child_(std::move(make_child)) {}

  const char* type_name() const override { return T::kTypeName; }

  /// The child for `label_values` (one per label name, in order), created on first use.
  /// InvalidArgument when the number of values does not match the label names.
  absl::StatusOr<T*> WithLabels(const std::vector<std::string>& label_values) {
    if (label_values.size() != label_names().size()) {
      return absl::InvalidArgumentError(absl::StrCat("metric ", name(), " takes ",
                                                     label_names().size(), " label values, got ",
                                                     label_values.size()));
    }
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = children_.find(label_values);
      if (it != children_.end()) return it->second.get();
    }
    absl::MutexLock lock(&mu_);
    std::unique_ptr<T>& child = children_[label_values];
    if (child == nullptr) child = make_child_();
    return child.get();
  }

 protected:
  void RenderSamples(std::string* out) const override {
    absl::ReaderMutexLock lock(&mu_);
    for (const auto& [values, child] : children_) internal::RenderChild(*this, values, *child, out);
  }

 private:
  const std::function<std::unique_ptr<T>()> make_child_;
  mutable absl::Mutex mu_;
  std::map<std::vector<std::string>, std::unique_ptr<T>> children_ ABSL_GUARDED_BY(mu_);
};

}  // namespace mivla::metrics

#endif  // MIVLA_CORE_METRICS_FAMILY_H_
