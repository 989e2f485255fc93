#include "action/inputs.h"

#include <doctest/doctest.h>

#include <map>

#include "core/error.h"

namespace action_inputs_test {

using namespace fluxkey;
using namespace fluxkey::action;

namespace {

EnvLookup env_of(std::map<std::string, std::string> vars) {
  return [vars](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string usage_error(const std::map<std::string, std::string>& vars) {
  try {
    reconcile_inputs(env_of(vars));
  } catch (const UsageError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("input variables are upper-cased with hyphens kept, as the runner names them") {
  CHECK(input_variable("kubeconfig") == "INPUT_KUBECONFIG");
  CHECK(input_variable("with-source") == "INPUT_WITH-SOURCE");
  CHECK(input_variable("my input") == "INPUT_MY_INPUT");
}

TEST_CASE("unset and empty inputs take the defaults of action.yml") {
  for (const auto& vars : {std::map<std::string, std::string>{},
                           std::map<std::string, std::string>{{"INPUT_KIND", ""},
                                                              {"INPUT_NAME", "  "},
                                                              {"INPUT_NAMESPACE", ""},
                                                              {"INPUT_WITH-SOURCE", ""},
                                                              {"INPUT_TIMEOUT", ""},
                                                              {"INPUT_FORCE", ""}}}) {
    flux::ReconcileOptions options = reconcile_inputs(env_of(vars));
    CHECK(options.kind == "kustomization");
    CHECK(options.name == "flux-system");
    CHECK(options.namespace_ == "flux-system");
    CHECK(options.with_source);
    CHECK_FALSE(options.force);
    CHECK(options.timeout == std::chrono::minutes(5));
    CHECK(options.wait);
  }
}

TEST_CASE("inputs given are trimmed and used") {
  flux::ReconcileOptions options = reconcile_inputs(env_of({{"INPUT_KIND", "helmrelease"},
                                                            {"INPUT_NAME", " podinfo\n"},
                                                            {"INPUT_NAMESPACE", "apps"},
                                                            {"INPUT_WITH-SOURCE", "False"},
                                                            {"INPUT_TIMEOUT", "1h30m"},
                                                            {"INPUT_FORCE", "TRUE"}}));
  CHECK(options.kind == "helmrelease");
  CHECK(options.name == "podinfo");
  CHECK(options.namespace_ == "apps");
  CHECK_FALSE(options.with_source);
  CHECK(options.force);
  CHECK(options.timeout == std::chrono::minutes(90));
}

TEST_CASE("bad inputs are usage errors naming the input") {
  CHECK(usage_error({{"INPUT_WITH-SOURCE", "yes"}}) ==
        "input with-source is \"yes\"; set it to true or false");
  CHECK(usage_error({{"INPUT_FORCE", "1"}}).starts_with("input force is \"1\""));
  CHECK(
      usage_error({{"INPUT_TIMEOUT", "5 minutes"}}).starts_with("input timeout is \"5 minutes\""));
  CHECK(usage_error({{"INPUT_TIMEOUT", "0"}}).find("longer than 0") != std::string::npos);
  CHECK(usage_error({{"INPUT_NAME", "../secrets"}}).starts_with("input name is \"../secrets\""));
  CHECK(usage_error({{"INPUT_NAMESPACE", "Flux"}}).starts_with("input namespace is \"Flux\""));
  CHECK(usage_error({{"INPUT_NAME", "-x"}}) != "");
}

TEST_CASE("the kubeconfig input is returned untouched") {
  CHECK(raw_kubeconfig_input(env_of({})) == "");
  CHECK(raw_kubeconfig_input(env_of({{"INPUT_KUBECONFIG", " abc\n"}})) == " abc\n");
}

}  // namespace action_inputs_test
