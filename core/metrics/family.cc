#include "core/metrics/family.h"

#include "core/metrics/text_format.h"

namespace mivla::metrics {
namespace {

// `{a="x",b="y"}` (plus `le` when given); empty when there are no labels at all.
std::string LabelSet(const FamilyBase& family, const std::vector<std::string>& values,
                     const std::string* le = nullptr) {
  if (values.empty() && le == nullptr) return "";
  std::string out = "{";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ',';
    absl::StrAppend(&out, family.label_names()[i], "=\"", EscapeLabelValue(values[i]), "\"");
  }
  if (le != nullptr) absl::StrAppend(&out, values.empty() ? "" : ",", "le=\"", *le, "\"");
  out += '}';
  return out;
}

void AppendSample(const std::string& name, const std::string& labels, double value,
                  std::string* out) {
  absl::StrAppend(out, name, labels, " ", FormatValue(value), "\n");
}

}  // namespace

void FamilyBase::Render(std::string* out) const {
  absl::StrAppend(out, "# HELP ", name_, " ", EscapeHelp(help_), "\n");
  absl::StrAppend(out, "# TYPE ", name_, " ", type_name(), "\n");
  RenderSamples(out);
}

namespace internal {

void RenderChild(const FamilyBase& family, const std::vector<std::string>& values, const Counter& c,
                 std::string* out) {
  AppendSample(family.name(), LabelSet(family, values), c.Value(), out);
}

void RenderChild(const FamilyBase& family, const std::vector<std::string>& values, const Gauge& g,
                 std::string* out) {
  AppendSample(family.name(), LabelSet(family, values), g.Value(), out);
}

void RenderChild(const FamilyBase& family, const std::vector<std::string>& values,
                 const Histogram& h, std::string* out) {
  const Histogram::Snapshot s = h.Collect();
  const std::string bucket_name = absl::StrCat(family.name(), "_bucket");
  for (size_t i = 0; i <= s.bounds.size(); ++i) {
    const std::string le = i < s.bounds.size() ? FormatValue(s.bounds[i]) : "+Inf";
    AppendSample(bucket_name, LabelSet(family, values, &le),
                 static_cast<double>(s.cumulative_counts[i]), out);
  }
  const std::string labels = LabelSet(family, values);
  AppendSample(absl::StrCat(family.name(), "_sum"), labels, s.sum, out);
  AppendSample(absl::StrCat(family.name(), "_count"), labels, static_cast<double>(s.count), out);
}

}  // namespace internal
}  // namespace mivla::metrics
