#include "core/build_info.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>

namespace core_build_info_test {

using namespace fluxkey;

BuildInfo release() {
  BuildInfo info;
  info.version = "v1.2.3";
  info.commit = "0123456789abcdef0123456789abcdef01234567";
  info.build_date = "2026-12-01T00:00:00Z";
  info.platform = "linux/arm64";
  info.compiler = "gcc 12.2.0";
  info.libcurl = "7.88.1";
  info.openssl = "3.0";
  info.libsodium = "1.0.18";
  return info;
}

TEST_CASE("version text: the version first, then one aligned line a field") {
  CHECK(build_info_text(release()) ==
        "fluxkey v1.2.3\n"
        "  Commit:     0123456789abcdef0123456789abcdef01234567\n"
        "  Build date: 2026-12-01T00:00:00Z\n"
        "  Platform:   linux/arm64\n"
        "  Compiler:   gcc 12.2.0\n"
        "  libcurl:    7.88.1\n"
        "  OpenSSL:    3.0\n"
        "  libsodium:  1.0.18\n");
}

TEST_CASE("version json: one object, stable camelCase keys, libraries nested") {
  std::string text = build_info_json(release());
  CHECK(text ==
        "{\n"
        "  \"version\": \"v1.2.3\",\n"
        "  \"commit\": \"0123456789abcdef0123456789abcdef01234567\",\n"
        "  \"buildDate\": \"2026-12-01T00:00:00Z\",\n"
        "  \"platform\": \"linux/arm64\",\n"
        "  \"compiler\": \"gcc 12.2.0\",\n"
        "  \"libraries\": {\n"
        "    \"libcurl\": \"7.88.1\",\n"
        "    \"openssl\": \"3.0\",\n"
        "    \"libsodium\": \"1.0.18\"\n"
        "  }\n"
        "}\n");
  CHECK(nlohmann::json::parse(text)["libraries"]["openssl"] == "3.0");
}

TEST_CASE("version yaml: the JSON's keys, every value a string") {
  std::string text = build_info_yaml(release());
  CHECK(text ==
        "version: \"v1.2.3\"\n"
        "commit: \"0123456789abcdef0123456789abcdef01234567\"\n"
        "buildDate: \"2026-12-01T00:00:00Z\"\n"
        "platform: \"linux/arm64\"\n"
        "compiler: \"gcc 12.2.0\"\n"
        "libraries:\n"
        "  libcurl: \"7.88.1\"\n"
        "  openssl: \"3.0\"\n"
        "  libsodium: \"1.0.18\"\n");
  // Unquoted, "3.0" would read back as a float and the date as a timestamp.
  YAML::Node node = YAML::Load(text);
  CHECK(node["libraries"]["openssl"].Tag() == "!");
  CHECK(node["buildDate"].Tag() == "!");
  CHECK(node["libraries"]["openssl"].as<std::string>() == "3.0");
}

TEST_CASE("version output: odd stamped text cannot break the JSON or the YAML") {
  BuildInfo info = release();
  info.version = "v1.2.3-\"quoted\"\\\n#not a comment";
  info.commit = "unknown";
  CHECK(nlohmann::json::parse(build_info_json(info))["version"] == info.version);
  CHECK(YAML::Load(build_info_yaml(info))["version"].as<std::string>() == info.version);
  CHECK(build_info_text(info).find("  Commit:     unknown\n") != std::string::npos);
}

}  // namespace core_build_info_test
