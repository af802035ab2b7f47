#include "core/metrics/registry.h"

#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "core/util/status_macros.h"
#include "core/metrics/text_format.h"

namespace mivla::metrics {
namespace {

constexpr const char* kHistogramSuffixes[] = {"_bucket", "_sum", "_count"};

}  // namespace

absl::StatusOr<FamilyBase*> Registry::CheckNew(const std::string& name, const char* type_name,
                                               const std::vector<std::string>& label_names) const {
  if (!IsValidMetricName(name)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid metric name '", name, "'"));
  }
  std::set<std::string> seen;
  for (const std::string& label : label_names) {
    if (!IsValidLabelName(label)) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": invalid label name '", label, "'"));
    }
    if (!seen.insert(label).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": duplicate label name '", label, "'"));
    }
    if (label == "le" && std::string(type_name) == Histogram::kTypeName) {
      return absl::InvalidArgumentError(
          absl::StrCat("metric ", name, ": label 'le' is reserved for histograms"));
    }
  }
  auto it = families_.find(name);
  if (it != families_.end()) {
    FamilyBase* existing = it->second.get();
    if (std::string(existing->type_name()) != type_name ||
        existing->label_names() != label_names) {
      return absl::AlreadyExistsError(absl::StrCat(
          "metric ", name, " is already registered as ", existing->type_name(), " with labels [",
          absl::StrJoin(existing->label_names(), ","), "]"));
    }
    return existing;
  }
  // Series names must not clash with a histogram's derived series, in either direction.
  for (const char* suffix : kHistogramSuffixes) {
    if (std::string(type_name) == Histogram::kTypeName &&
        families_.count(absl::StrCat(name, suffix)) > 0) {
      return absl::AlreadyExistsError(
          absl::StrCat("histogram ", name, " clashes with metric ", name, suffix));
    }
    if (absl::EndsWith(name, suffix)) {
      const std::string base = name.substr(0, name.size() - std::string(suffix).size());
      auto base_it = families_.find(base);
      if (base_it != families_.end() &&
          std::string(base_it->second->type_name()) == Histogram::kTypeName) {
        return absl::AlreadyExistsError(
            absl::StrCat("metric ", name, " clashes with histogram ", base));
      }
    }
  }
  return nullptr;
}

absl::StatusOr<Family<Counter>*> Registry::AddCounter(const std::string& name,
                                                      const std::string& help,
                                                      const std::vector<std::string>& label_names) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FamilyBase * existing, CheckNew(name, Counter::kTypeName, label_names));
  if (existing != nullptr) return static_cast<Family<Counter>*>(existing);
  auto family = std::make_unique<Family<Counter>>(name, help, label_names,
                                                  [] { return std::make_unique<Counter>(); });
  Family<Counter>* raw = family.get();
  families_[name] = std::move(family);
  return raw;
}

absl::StatusOr<Family<Gauge>*> Registry::AddGauge(const std::string& name, const std::string& help,
                                                  const std::vector<std::string>& label_names) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FamilyBase * existing, CheckNew(name, Gauge::kTypeName, label_names));
  if (existing != nullptr) return static_cast<Family<Gauge>*>(existing);
  auto family = std::make_unique<Family<Gauge>>(name, help, label_names,
                                                [] { return std::make_unique<Gauge>(); });
  Family<Gauge>* raw = family.get();
  families_[name] = std::move(family);
  return raw;
}

absl::StatusOr<Family<Histogram>*> Registry::AddHistogram(
    const std::string& name, const std::string& help, const std::vector<std::string>& label_names,
    const std::vector<double>& bounds) {
  RETURN_IF_ERROR(Histogram::ValidateBounds(bounds));
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(FamilyBase * existing, CheckNew(name, Histogram::kTypeName, label_names));
  if (existing != nullptr) {
    if (histogram_bounds_[name] != bounds) {
      return absl::AlreadyExistsError(
          absl::StrCat("histogram ", name, " is already registered with other bounds"));
    }
    return static_cast<Family<Histogram>*>(existing);
  }
  auto family = std::make_unique<Family<Histogram>>(
      name, help, label_names, [bounds] { return std::make_unique<Histogram>(bounds); });
  Family<Histogram>* raw = family.get();
  families_[name] = std::move(family);
  histogram_bounds_[name] = bounds;
  return raw;
}

void Registry::AddCollectHook(std::function<void()> hook) {
  absl::MutexLock lock(&hooks_mu_);
  hooks_.push_back(std::move(hook));
}

std::string Registry::Expose() const {
  {
    absl::MutexLock lock(&hooks_mu_);
    for (const auto& hook : hooks_) hook();
  }
  std::string out;
  absl::ReaderMutexLock lock(&mu_);
  for (const auto& [name, family] : families_) family->Render(&out);
  return out;
}

}  // namespace mivla::metrics
