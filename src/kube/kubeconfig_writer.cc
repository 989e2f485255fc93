#include "kube/kubeconfig_writer.h"

#include <yaml-cpp/yaml.h>

#include "core/base64.h"
#include "core/error.h"

namespace fluxkey::kube {
namespace {

// yaml-cpp keeps `true` or `0123` plain, but kubectl reads YAML through a
// YAML 1.1 resolver into JSON, where they become a boolean and a number
// and no longer fit a string field. Such values are double-quoted.
bool retyped_by_yaml(const std::string& value) {
  if (value.empty()) return true;
  char first = value[0];
  if ((first >= '0' && first <= '9') || first == '+' || first == '-' || first == '.') return true;
  std::string lower;
  for (char c : value) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  for (const char* word : {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"}) {
    if (lower == word) return true;
  }
  return false;
}

class StringEmitter {
 public:
  explicit StringEmitter(YAML::Emitter& out) : out_(out) {}
  void operator()(const char* key, const std::string& value) {
    out_ << YAML::Key << key << YAML::Value;
    if (retyped_by_yaml(value)) out_ << YAML::DoubleQuoted;
    out_ << value;
  }

 private:
  YAML::Emitter& out_;
};

}  // namespace

std::string render_kubeconfig(const KubeconfigSpec& spec) {
  if (spec.name.empty() || spec.server.empty() || spec.token.empty()) {
    throw Error("render_kubeconfig: name, server and token are required");
  }
  // The emitter quotes whatever needs quoting (a token or name that would
  // otherwise read as a number, a boolean or YAML syntax).
  YAML::Emitter out;
  StringEmitter field(out);
  out << YAML::BeginMap;
  out << YAML::Key << "apiVersion" << YAML::Value << "v1";
  out << YAML::Key << "kind" << YAML::Value << "Config";

  out << YAML::Key << "clusters" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  field("name", spec.name);
  out << YAML::Key << "cluster" << YAML::Value << YAML::BeginMap;
  field("server", spec.server);
  if (!spec.ca_pem.empty()) {
    out << YAML::Key << "certificate-authority-data" << YAML::Value << base64_encode(spec.ca_pem);
  }
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "users" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  field("name", spec.name);
  out << YAML::Key << "user" << YAML::Value << YAML::BeginMap;
  field("token", spec.token.str());
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  out << YAML::Key << "contexts" << YAML::Value << YAML::BeginSeq << YAML::BeginMap;
  field("name", spec.name);
  out << YAML::Key << "context" << YAML::Value << YAML::BeginMap;
  field("cluster", spec.name);
  field("user", spec.name);
  if (!spec.namespace_.empty()) field("namespace", spec.namespace_);
  out << YAML::EndMap << YAML::EndMap << YAML::EndSeq;

  field("current-context", spec.name);
  out << YAML::EndMap;
  if (!out.good()) throw Error("cannot render kubeconfig: " + out.GetLastError());
  return std::string(out.c_str()) + "\n";
}

}  // namespace fluxkey::kube
