#include "kube/kubeconfig_writer.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include "core/base64.h"
#include "core/error.h"
#include "kube/config_loader.h"
#include "support/kube_fakes.h"

namespace kube_kubeconfig_writer_test {

using namespace fluxkey;
using namespace fluxkey::kube;
using fluxkey::kube::testing::kCa;

TEST_CASE("render_kubeconfig round-trips through parse_kubeconfig") {
  KubeconfigSpec spec;
  spec.server = "https://k8s.example.com:6443";
  spec.ca_pem = kCa;
  spec.token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln";
  spec.namespace_ = "flux-system";
  std::string yaml = render_kubeconfig(spec);
  CHECK(yaml.back() == '\n');

  RestConfig c = parse_kubeconfig(yaml, "/rendered", "");
  CHECK(c.server == spec.server);
  CHECK(c.tls.ca_pem == kCa);
  CHECK(c.token == spec.token);
  CHECK(c.default_namespace == "flux-system");
  CHECK(c.origin == "kubeconfig /rendered, context fluxkey");

  YAML::Node root = YAML::Load(yaml);
  CHECK(root["apiVersion"].as<std::string>() == "v1");
  CHECK(root["kind"].as<std::string>() == "Config");
  CHECK(root["current-context"].as<std::string>() == "fluxkey");
  CHECK(root["clusters"][0]["name"].as<std::string>() == "fluxkey");
  CHECK(root["clusters"][0]["cluster"]["certificate-authority-data"].as<std::string>() ==
        base64_encode(kCa));
  CHECK(root["users"][0]["name"].as<std::string>() == "fluxkey");
  CHECK(root["contexts"][0]["context"]["cluster"].as<std::string>() == "fluxkey");
  CHECK(root["contexts"][0]["context"]["user"].as<std::string>() == "fluxkey");
}

TEST_CASE("render_kubeconfig leaves out what is not set") {
  KubeconfigSpec spec;
  spec.name = "prod";
  spec.server = "https://public.example.com";
  spec.token = "t";
  std::string yaml = render_kubeconfig(spec);
  CHECK(yaml.find("certificate-authority-data") == std::string::npos);
  CHECK(yaml.find("namespace") == std::string::npos);
  RestConfig c = parse_kubeconfig(yaml, "/rendered", "");
  CHECK(c.tls.ca_pem.empty());
  CHECK(c.default_namespace.empty());
  CHECK(c.origin == "kubeconfig /rendered, context prod");
}

TEST_CASE("render_kubeconfig quotes values YAML would otherwise retype") {
  for (const char* token : {"true", "0123", "null", "1e3", "a: b", "- x", "#x", "'q\""}) {
    CAPTURE(token);
    KubeconfigSpec spec;
    spec.server = "https://h";
    spec.token = token;
    std::string yaml = render_kubeconfig(spec);
    RestConfig c = parse_kubeconfig(yaml, "/rendered", "");
    CHECK(c.token == token);
    // Plain `token: true` would be a boolean to kubectl's YAML reader.
    CHECK(yaml.find("token: " + std::string(token) + "\n") == std::string::npos);
  }
  KubeconfigSpec plain;
  plain.server = "https://h";
  plain.token = "abc.def";
  CHECK(render_kubeconfig(plain).find("token: abc.def\n") != std::string::npos);
}

TEST_CASE("render_kubeconfig refuses an incomplete spec") {
  KubeconfigSpec spec;
  spec.server = "https://h";
  CHECK_THROWS_AS(render_kubeconfig(spec), Error);
}

}  // namespace kube_kubeconfig_writer_test
