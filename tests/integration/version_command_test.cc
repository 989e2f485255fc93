// `fluxkey version`: the real binary reports the platform it was built for
// and the libraries it runs with, as a bug report needs them.
#include <curl/curl.h>
#include <doctest/doctest.h>
#include <openssl/crypto.h>
#include <sodium.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>

#include "core/error.h"
#include "support/fluxkey_run.h"

namespace version_command_test {

using namespace fluxkey;
using namespace fluxkey::testing;
using nlohmann::json;

namespace {

// Asked of this test's own compiler, not of fluxkey's code.
std::string expected_platform() {
#if defined(__x86_64__)
  return "linux/amd64";
#elif defined(__aarch64__)
  return "linux/arm64";
#else
  return "";  // another target: only checked to be os/arch
#endif
}

bool is_release_number(const std::string& version) {
  return std::regex_match(version, std::regex(R"(\d+\.\d+\.\d+([.+~-][0-9A-Za-z.+~-]*)?)"));
}

// The shared libraries fluxkey loads: with LD_TRACE_LOADED_OBJECTS set, the
// dynamic linker lists them instead of running the program. A library linked
// in statically (the image's libcurl: -Dcurl_static) is not among them.
bool loads_shared(const std::string& soname) {
  static const std::string listed = run_fluxkey({}, {{"LD_TRACE_LOADED_OBJECTS", "1"}}).out;
  return listed.find(soname) != std::string::npos;
}

// A program that may be missing here (curl-config, git): nullopt then.
std::optional<ProcessResult> run_if_installed(const std::vector<std::string>& argv) {
  try {
    return run_program(argv);
  } catch (const Error&) {
    return std::nullopt;
  }
}

json version_json() {
  auto run = run_fluxkey({"version", "-o", "json"});
  REQUIRE(run.exit_code == 0);
  CHECK(run.err.empty());
  return json::parse(run.out);
}

}  // namespace

TEST_CASE("version -o json: platform, commit and the libraries fluxkey runs with") {
  json v = version_json();
  CAPTURE(v.dump());
  REQUIRE(v.is_object());
  REQUIRE(v["libraries"].is_object());

  CHECK(v["version"].get<std::string>().starts_with("v"));
  std::string commit = v["commit"];
  CHECK((commit == "unknown" || std::regex_match(commit, std::regex("[0-9a-f]{40}"))));
  std::string date = v["buildDate"];
  CHECK((date == "unknown" ||
         std::regex_match(date, std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)"))));

  std::string platform = v["platform"];
  if (expected_platform().empty()) {
    CHECK(std::regex_match(platform, std::regex("linux/[a-z0-9]+")));
  } else {
    CHECK(platform == expected_platform());
  }
  CHECK(!v["compiler"].get<std::string>().empty());

  // The libcurl, libcrypto and libsodium this test process loaded are the
  // ones the host has; fluxkey must name the same (its headers could differ).
  std::string libcurl = v["libraries"]["libcurl"];
  CHECK(is_release_number(libcurl));
  CHECK(libcurl == std::string(curl_version_info(CURLVERSION_NOW)->version));
  if (loads_shared("libcurl.so")) {
    auto config = run_if_installed({"curl-config", "--version"});
    if (config && config->exit_code == 0) CHECK(config->out == "libcurl " + libcurl + "\n");
  }

  std::string openssl = v["libraries"]["openssl"];
  CHECK(is_release_number(openssl));
  CHECK(openssl == std::string(OpenSSL_version(OPENSSL_VERSION_STRING)));

  std::string libsodium = v["libraries"]["libsodium"];
  CHECK(is_release_number(libsodium));
  CHECK(libsodium == std::string(sodium_version_string()));

  // A commit fluxkey names is one of this tree's (it may be behind HEAD until
  // meson reconfigures, never invented), when git can read the tree.
  auto tree = run_if_installed({"git", "-C", source_root(), "rev-parse", "--git-dir"});
  if (commit != "unknown" && tree && tree->exit_code == 0) {
    auto known = run_program({"git", "-C", source_root(), "cat-file", "-e", commit + "^{commit}"});
    CHECK_MESSAGE(known.exit_code == 0, known.err);
  }
}

TEST_CASE("version asks the loaded libcurl and OpenSSL, not their headers") {
  // The shim (version_shim.cc) answers for both libraries with versions no
  // header has; where fluxkey links them as shared libraries, it sees the shim.
  const char* shim = std::getenv("VERSION_SHIM");
  REQUIRE_MESSAGE(shim != nullptr, "VERSION_SHIM is unset: run under meson test");
  // ASan insists on coming first in the process; the shim is harmless before it.
  auto run = run_fluxkey({"version", "-o", "json"},
                         {{"LD_PRELOAD", shim}, {"ASAN_OPTIONS", "verify_asan_link_order=0"}});
  REQUIRE(run.exit_code == 0);
  json v = json::parse(run.out);
  if (loads_shared("libcurl.so")) {
    CHECK(v["libraries"]["libcurl"] == "99.1.2");
  } else {
    MESSAGE("libcurl is linked in statically: no shim can stand in for it");
  }
  if (loads_shared("libcrypto.so")) {
    CHECK(v["libraries"]["openssl"] == "99.3.4");
  } else {
    MESSAGE("OpenSSL is linked in statically: no shim can stand in for it");
  }
}

TEST_CASE("version: text, yaml and --version say what the JSON says") {
  json v = version_json();
  std::string version = v["version"];

  auto text = run_fluxkey({"version"});
  CHECK(text.exit_code == 0);
  CHECK(text.out.starts_with("fluxkey " + version + "\n"));
  for (const std::string& line :
       {"Commit:     " + v["commit"].get<std::string>(),
        "Platform:   " + v["platform"].get<std::string>(),
        "libcurl:    " + v["libraries"]["libcurl"].get<std::string>(),
        "OpenSSL:    " + v["libraries"]["openssl"].get<std::string>(),
        "libsodium:  " + v["libraries"]["libsodium"].get<std::string>()}) {
    CAPTURE(line);
    CHECK(text.out.find("\n  " + line + "\n") != std::string::npos);
  }

  auto yaml = run_fluxkey({"version", "--output=yaml"});
  REQUIRE(yaml.exit_code == 0);
  YAML::Node node = YAML::Load(yaml.out);
  for (const char* key : {"version", "commit", "buildDate", "platform", "compiler"}) {
    CAPTURE(key);
    CHECK(node[key].as<std::string>() == v[key].get<std::string>());
  }
  for (const char* library : {"libcurl", "openssl", "libsodium"}) {
    CAPTURE(library);
    CHECK(node["libraries"][library].as<std::string>() == v["libraries"][library]);
  }

  auto flag = run_fluxkey({"--version"});
  CHECK(flag.exit_code == 0);
  CHECK(flag.out == "fluxkey " + version + "\n");
}

TEST_CASE("version -o with a bad value is a usage error on one line") {
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"version", "-o", "xml"}, {"version", "--output=table"}}) {
    CAPTURE(args.back());
    auto run = run_fluxkey(args);
    CHECK(run.exit_code == 2);
    CHECK(run.out.empty());
    CHECK(count_lines(run.err) == 1);
    CHECK(run.err.find("--output") != std::string::npos);
    CHECK(run.err.find("text|json|yaml") != std::string::npos);
  }
  auto missing = run_fluxkey({"version", "-o"});
  CHECK(missing.exit_code == 2);
  CHECK(count_lines(missing.err) == 1);
}

}  // namespace version_command_test
