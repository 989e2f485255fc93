#include "flux/source.h"

#include <algorithm>

#include "core/error.h"

namespace fluxkey::flux {
namespace {

ObjectRef reference(const KindInfo& owner, const Json& object, const std::string& kind_name,
                    const std::string& name, const std::string& namespace_,
                    const std::string& field) {
  const std::string owner_ref = owner.kind + " " + string_at(object, {"metadata", "namespace"}) +
                                "/" + string_at(object, {"metadata", "name"});
  const KindInfo* kind = kind_name.empty() ? nullptr : find_kind(kind_name);
  bool allowed = kind != nullptr && std::find(owner.source_kinds.begin(), owner.source_kinds.end(),
                                              kind->kind) != owner.source_kinds.end();
  if (!allowed) {
    throw Error("cannot reconcile the source of " + owner_ref + ": " + field + ".kind \"" +
                kind_name + "\" is not one of the kinds it may name");
  }
  if (name.empty())
    throw Error("cannot reconcile the source of " + owner_ref + ": " + field + ".name is empty");
  return ObjectRef{kind, namespace_, name};
}

}  // namespace

std::optional<ObjectRef> source_of(const KindInfo& kind, const Json& object) {
  const std::string own_namespace = string_at(object, {"metadata", "namespace"});
  auto or_own = [&](const std::string& ns) { return ns.empty() ? own_namespace : ns; };
  switch (kind.source) {
    case SourceRule::kNone:
      return std::nullopt;
    case SourceRule::kSourceRef:
      return reference(kind, object, string_at(object, {"spec", "sourceRef", "kind"}),
                       string_at(object, {"spec", "sourceRef", "name"}),
                       or_own(string_at(object, {"spec", "sourceRef", "namespace"})),
                       "spec.sourceRef");
    case SourceRule::kSourceRefSameNamespace:
      // source-controller resolves a HelmChart's sourceRef in its own
      // namespace only (the field has no namespace).
      return reference(kind, object, string_at(object, {"spec", "sourceRef", "kind"}),
                       string_at(object, {"spec", "sourceRef", "name"}), own_namespace,
                       "spec.sourceRef");
    case SourceRule::kHelmReleaseChart: {
      bool has_chart_ref = object.is_object() && object.contains("spec") &&
                           object["spec"].is_object() && object["spec"].contains("chartRef") &&
                           object["spec"]["chartRef"].is_object();
      if (has_chart_ref) {
        return reference(kind, object, string_at(object, {"spec", "chartRef", "kind"}),
                         string_at(object, {"spec", "chartRef", "name"}),
                         or_own(string_at(object, {"spec", "chartRef", "namespace"})),
                         "spec.chartRef");
      }
      // helm-controller names the HelmChart it creates from spec.chart
      // "<namespace>-<name>", in the namespace of the chart's source.
      std::string name = own_namespace + "-" + string_at(object, {"metadata", "name"});
      std::string ns =
          or_own(string_at(object, {"spec", "chart", "spec", "sourceRef", "namespace"}));
      return reference(kind, object, "HelmChart", name, ns, "spec.chart");
    }
  }
  return std::nullopt;
}

}  // namespace fluxkey::flux
