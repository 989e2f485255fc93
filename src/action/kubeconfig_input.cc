#include "action/kubeconfig_input.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <string_view>

#include "core/base64.h"
#include "core/error.h"
#include "core/secret.h"
#include "core/text.h"
#include "flux/credentials.h"
#include "kube/config_loader.h"

namespace fluxkey::action {
namespace {

// Keys whose values are credentials, wherever they sit in a kubeconfig
// (users[].user, and the auth-provider config of older files).
constexpr std::array<std::string_view, 7> kSecretKeys = {
    "token",         "client-key-data", "password",      "id-token",
    "refresh-token", "access-token",    "client-secret",
};

bool is_secret_key(std::string_view key) {
  return std::find(kSecretKeys.begin(), kSecretKeys.end(), key) != kSecretKeys.end();
}

const char* kFix =
    "pass the secret that fluxkey sync stores, e.g. kubeconfig: ${{ secrets.FLUX_KUBECONFIG }}";

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(line);
    start = end + 1;
  }
  return out;
}

void add(std::vector<std::string>& out, const std::string& value) {
  std::string v = trim(value);
  if (!v.empty() && std::find(out.begin(), out.end(), v) == out.end()) out.push_back(v);
}

void walk_yaml(const YAML::Node& node, std::vector<std::string>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && is_secret_key(entry.first.Scalar()) &&
          entry.second.IsScalar()) {
        add(out, entry.second.Scalar());
      } else {
        walk_yaml(entry.second, out);
      }
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) walk_yaml(item, out);
  }
}

// `  token: VALUE` (or `- token: "VALUE"`) lines, for a file yaml-cpp
// refuses: a broken kubeconfig may still carry a working token.
void scan_lines(const std::string& text, std::vector<std::string>& out) {
  for (std::string line : lines_of(text)) {
    line = trim(line);
    if (line.starts_with("- ")) line = trim(line.substr(2));
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    if (!is_secret_key(trim(line.substr(0, colon)))) continue;
    std::string value = trim(line.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    add(out, value);
  }
}

void secrets_in_yaml(const std::string& yaml, std::vector<std::string>& out) {
  try {
    walk_yaml(YAML::Load(yaml), out);
  } catch (const YAML::Exception&) {
    // scan_lines below covers what a broken file still holds.
  }
  scan_lines(yaml, out);
}

bool looks_like_yaml_text(const std::string& text) {
  return text.find(':') != std::string::npos && text.find('\0') == std::string::npos;
}

}  // namespace

std::vector<std::string> secrets_in_input(const std::string& input) {
  std::vector<std::string> out;
  std::string value = trim(input);
  if (value.empty()) return out;
  if (value.find('\n') == std::string::npos) {
    add(out, value);
  } else if (value.find(':') == std::string::npos) {
    // Wrapped base64 (`base64` without -w0): the runner masks line by line,
    // so each line is a secret of its own.
    for (const auto& line : lines_of(value)) add(out, line);
  }
  // The very text load_input parses, final newline and all: yaml-cpp reads
  // some broken files one way with it and refuses them without it (an
  // unclosed quote), and any other text could hide the token that loads.
  try {
    const SecretString yaml(std::move(decode_input(value).yaml));
    secrets_in_yaml(yaml.str(), out);
  } catch (const UsageError&) {
    // Nothing loads from this input, and no message quotes it.
  }
  return out;
}

DecodedInput decode_input(const std::string& input) {
  std::string value = trim(input);
  if (value.empty()) {
    throw UsageError("the kubeconfig input is empty; " + std::string(kFix) +
                     " (and check that the secret exists where the workflow runs: repository, "
                     "environment or organization)");
  }
  // Base64's alphabet has no ':', and a kubeconfig cannot do without one.
  if (value.find(':') != std::string::npos) {
    // No kubeconfig holds a NUL, and yaml-cpp misreads one.
    if (!looks_like_yaml_text(value)) {
      throw UsageError("the kubeconfig input holds a NUL byte, so it is not a kubeconfig; " +
                       std::string(kFix));
    }
    return {value + "\n", false};
  }
  std::optional<std::string> decoded = base64_decode(value);
  if (!decoded) {
    throw UsageError("the kubeconfig input is neither a kubeconfig (YAML) nor base64; " +
                     std::string(kFix));
  }
  if (!looks_like_yaml_text(*decoded)) {
    throw UsageError(
        "the kubeconfig input is base64, but what it decodes to is not a kubeconfig; " +
        std::string(kFix));
  }
  return {*decoded, true};
}

kube::RestConfig load_input(const std::string& input, Clock::time_point now) {
  DecodedInput decoded = decode_input(input);
  // The decoded text is fluxkey's copy of the credentials: wiped when done.
  const SecretString yaml(std::move(decoded.yaml));
  kube::RestConfig config;
  try {
    // "input" stands for the file name in parse_kubeconfig's messages:
    // "kubeconfig input: context ... not found".
    config = kube::parse_kubeconfig(yaml.str(), "input", "");
  } catch (const UsageError& e) {
    throw UsageError(std::string(e.what()) + "; " + kFix);
  }
  if (auto expiry = flux::jwt_expiry(config.token.str()); expiry && *expiry <= now) {
    auto ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - *expiry);
    throw UsageError("the token in the kubeconfig input expired at " + format_rfc3339(*expiry) +
                     " (" + format_duration(std::chrono::duration_cast<std::chrono::seconds>(ago)) +
                     " ago); the fluxkey CronJob should have renewed it: check it with `fluxkey "
                     "status`, or mint and push a new one now with `fluxkey rotate`");
  }
  return config;
}

}  // namespace fluxkey::action
