#include "support/secret_guard.h"

#include <doctest/doctest.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/base64.h"
#include "support/sim_process.h"

namespace fluxkey::testing {
namespace {

namespace fs = std::filesystem;

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

// Reads a file when it exists and is small enough to be a credential
// holder; "" otherwise (a flag naming a missing file is the test's business).
std::string slurp(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec) || fs::file_size(path, ec) > (1u << 20)) {
    return "";
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string joined(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/') return path;
  return dir + "/" + path;
}

// The part of base64(k zero bytes + value) that depends on the value alone:
// it appears verbatim inside the base64 of any data holding the value at an
// offset congruent to k modulo 3.
std::string base64_core(std::string_view value, size_t k, bool url) {
  std::string data(k, '\0');
  data.append(value);
  std::string enc = url ? base64url_encode(data) : base64_encode(data);
  size_t first = (8 * k + 5) / 6;
  size_t last = (8 * (k + value.size())) / 6;  // exclusive
  if (last <= first || last > enc.size()) return "";
  return enc.substr(first, last - first);
}

bool secret_env_name(const std::string& name) {
  const auto& names = secret_env_names();
  if (std::find(names.begin(), names.end(), name) != names.end()) return true;
  for (const char* suffix : {"_TOKEN", "_PRIVATE_KEY", "_PASSWORD", "_SECRET"}) {
    if (name.ends_with(suffix)) return true;
  }
  return false;
}

bool kubeconfig_data_env(const std::string& name) {
  return name == "FLUXKEY_KUBECONFIG_DATA" || name == "INPUT_KUBECONFIG";
}

// Keys whose value is a credential wherever they sit in a kubeconfig.
constexpr std::array<std::string_view, 7> kSecretKeys = {
    "token",         "client-key-data", "password",      "id-token",
    "refresh-token", "access-token",    "client-secret",
};

void walk_kubeconfig(const YAML::Node& node, SecretSet& set, const std::string& origin,
                     const std::string& base_dir) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) continue;
      const std::string key = entry.first.Scalar();
      if (entry.second.IsScalar()) {
        const std::string value = entry.second.Scalar();
        if (std::find(kSecretKeys.begin(), kSecretKeys.end(), key) != kSecretKeys.end()) {
          set.add(value, origin + " " + key);
          if (key == "client-key-data") {
            if (auto pem = base64_decode(trimmed(value))) set.add_pem(*pem, origin + " " + key);
          }
        } else if (key == "client-key") {
          set.add_pem(slurp(joined(base_dir, value)), origin + " client-key file");
        } else if (key == "tokenFile") {
          set.add(trimmed(slurp(joined(base_dir, value))), origin + " tokenFile");
        }
      } else {
        walk_kubeconfig(entry.second, set, origin, base_dir);
      }
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) walk_kubeconfig(item, set, origin, base_dir);
  }
}

// `token: VALUE` lines, for a kubeconfig yaml-cpp refuses (a test may pass a
// broken one on purpose; its token is still a secret).
void scan_kubeconfig_lines(std::string_view yaml, SecretSet& set, const std::string& origin) {
  std::istringstream in{std::string(yaml)};
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trimmed(line);
    if (t.starts_with("- ")) t = trimmed(t.substr(2));
    size_t colon = t.find(':');
    if (colon == std::string::npos) continue;
    std::string key = trimmed(t.substr(0, colon));
    if (std::find(kSecretKeys.begin(), kSecretKeys.end(), key) == kSecretKeys.end()) continue;
    std::string value = trimmed(t.substr(colon + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    set.add(value, origin + " " + key);
  }
}

std::string flag_value(const std::vector<std::string>& args, size_t& i, const std::string& name) {
  const std::string& arg = args[i];
  if (arg == name && i + 1 < args.size()) return args[++i];
  if (arg.starts_with(name + "=")) return arg.substr(name.size() + 1);
  return "";
}

std::string command_of(const std::vector<std::string>& argv) {
  std::string out = "fluxkey";
  for (size_t i = 1; i < argv.size() && i < 3; ++i) {
    if (argv[i].starts_with("-")) break;
    out += " " + argv[i];
  }
  return out;
}

}  // namespace

void SecretSet::add_needle(std::string text, const std::string& origin, const std::string& form) {
  if (text.size() < kMinSecretLength) return;
  if (!seen_.insert(text).second) return;
  needles_.push_back({std::move(text), origin, form});
}

void SecretSet::add(std::string_view value, const std::string& origin) {
  std::string v(value);
  // A value read from a file or a YAML scalar may carry a final newline the
  // program strips; the secret is the rest.
  while (!v.empty() && (v.back() == '\n' || v.back() == '\r')) v.pop_back();
  if (v.size() < kMinSecretLength) return;
  ++secrets_;
  add_needle(v, origin, "raw");
  for (size_t k = 0; k < 3; ++k) {
    add_needle(base64_core(v, k, false), origin, "base64");
    add_needle(base64_core(v, k, true), origin, "base64url");
  }
}

void SecretSet::add_pem(std::string_view pem, const std::string& origin) {
  if (pem.find("-----BEGIN") == std::string_view::npos) {
    add(pem, origin);
    return;
  }
  add(pem, origin);
  std::istringstream in{std::string(pem)};
  std::string line;
  bool in_key = false;
  while (std::getline(in, line)) {
    std::string t = trimmed(line);
    if (t.starts_with("-----BEGIN")) {
      in_key = t.find("PRIVATE KEY") != std::string::npos;
    } else if (t.starts_with("-----END")) {
      in_key = false;
    } else if (in_key && t.find(':') == std::string::npos) {
      add_needle(t, origin, "PEM line");
    }
  }
}

void SecretSet::add_kubeconfig(std::string_view yaml, const std::string& origin,
                               const std::string& base_dir) {
  if (trimmed(yaml).empty()) return;
  add(yaml, origin);
  try {
    walk_kubeconfig(YAML::Load(std::string(yaml)), *this, origin, base_dir);
  } catch (const YAML::Exception&) {
    scan_kubeconfig_lines(yaml, *this, origin);
  }
}

void SecretSet::add_kubeconfig_file(const std::string& path, const std::string& origin) {
  std::string text = slurp(path);
  if (text.empty()) return;
  add_kubeconfig(text, origin, fs::path(path).parent_path().string());
}

void SecretSet::add_kubeconfig_data(std::string_view data, const std::string& origin) {
  add(data, origin);
  std::string t = trimmed(data);
  std::string compact;
  for (char c : t) {
    if (c != '\n' && c != '\r' && c != ' ') compact += c;
  }
  if (auto decoded = base64_decode(compact)) {
    add_kubeconfig(*decoded, origin + " (decoded)");
  } else {
    add_kubeconfig(t, origin);
  }
}

void SecretSet::add_from_env(const Env& env) {
  for (const auto& [name, value] : env) {
    if (kubeconfig_data_env(name)) {
      add_kubeconfig_data(value, name);
    } else if (name == "KUBECONFIG") {
      size_t start = 0;
      while (start <= value.size()) {
        size_t colon = value.find(':', start);
        if (colon == std::string::npos) colon = value.size();
        add_kubeconfig_file(value.substr(start, colon - start), "kubeconfig of KUBECONFIG");
        start = colon + 1;
      }
    } else if (secret_env_name(name)) {
      add_pem(value, name);
    }
  }
}

void SecretSet::add_from_args(const std::vector<std::string>& args) {
  auto from_file = [this](const std::string& key, const std::string& path) {
    if (key == "kubeconfig") {
      add_kubeconfig_file(path, "kubeconfig of --kubeconfig");
    } else if (key == "github-token-file") {
      add(trimmed(slurp(path)), "--github-token-file");
    } else if (key == "github-app-key") {
      add_pem(slurp(path), "--github-app-key");
    }
  };
  for (size_t i = 0; i < args.size(); ++i) {
    for (const char* key : {"kubeconfig", "github-token-file", "github-app-key", "config"}) {
      std::string value = flag_value(args, i, std::string("--") + key);
      if (value.empty()) continue;
      if (std::string(key) != "config") {
        from_file(key, value);
        break;
      }
      // A --config file names the same files under the flags' names.
      try {
        YAML::Node config = YAML::Load(slurp(value));
        if (!config.IsMap()) break;
        for (const char* inner : {"kubeconfig", "github-token-file", "github-app-key"}) {
          if (config[inner] && config[inner].IsScalar()) {
            from_file(inner,
                      joined(fs::path(value).parent_path().string(), config[inner].Scalar()));
          }
        }
      } catch (const YAML::Exception&) {
      }
      break;
    }
  }
}

void SecretSet::add_ledger(const std::string& path, const std::string& origin) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json record = nlohmann::json::parse(line, nullptr, false);
    if (!record.is_object() || !record["value"].is_string()) continue;
    add_pem(record["value"].get<std::string>(),
            origin + " " + record.value("kind", std::string("secret")));
  }
}

std::vector<Leak> find_leaks(std::string_view text, const std::string& where,
                             const SecretSet& secrets, bool skip_mask_commands) {
  std::string scanned(text);
  if (skip_mask_commands) {
    // Blank the command lines out (same length, so offsets stay true).
    size_t start = 0;
    while (start < scanned.size()) {
      size_t end = scanned.find('\n', start);
      if (end == std::string::npos) end = scanned.size();
      if (std::string_view(scanned).substr(start, end - start).starts_with("::add-mask::")) {
        std::fill(scanned.begin() + static_cast<std::ptrdiff_t>(start),
                  scanned.begin() + static_cast<std::ptrdiff_t>(end), ' ');
      }
      start = end + 1;
    }
  }
  std::vector<Leak> out;
  for (const auto& needle : secrets.needles()) {
    size_t at = scanned.find(needle.text);
    if (at == std::string::npos) continue;
    size_t from = at >= 40 ? at - 40 : 0;
    size_t after = at + needle.text.size();
    std::string context = scanned.substr(from, at - from) + "<SECRET>" +
                          scanned.substr(after, std::min<size_t>(40, scanned.size() - after));
    std::replace(context.begin(), context.end(), '\n', ' ');
    out.push_back({where, needle.origin, needle.form, at, context});
  }
  return out;
}

std::string describe(const std::vector<Leak>& leaks) {
  std::string out;
  for (const auto& leak : leaks) {
    out += "secret leaked: " + leak.origin + " (" + leak.form + ") in " + leak.where + " at byte " +
           std::to_string(leak.offset) + ": ..." + leak.context + "...\n";
  }
  return out;
}

SecretSet secrets_of(const GuardedRun& run) {
  SecretSet set;
  set.add_from_env(run.env);
  set.add_from_args(
      std::vector<std::string>(run.argv.begin() + (run.argv.empty() ? 0 : 1), run.argv.end()));
  for (const auto& sim : live_sims()) {
    set.add_ledger(sim.state_dir + "/issued-secrets.jsonl", sim.name);
  }
  return set;
}

std::vector<Leak> scan_request_log(const std::string& state_dir, const std::string& name,
                                   const SecretSet& secrets) {
  std::ifstream in(state_dir + "/requests.jsonl", std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return find_leaks(text.str(), name + " requests.jsonl", secrets);
}

std::vector<Leak> scan_run(const GuardedRun& run, const SecretSet& secrets) {
  std::vector<Leak> out;
  auto append = [&out](std::vector<Leak> more) {
    out.insert(out.end(), std::make_move_iterator(more.begin()),
               std::make_move_iterator(more.end()));
  };
  const std::string command = command_of(run.argv);
  if (run.result != nullptr) {
    if (run.stdout_credential_reason.empty()) {
      append(find_leaks(run.result->out, "stdout of " + command, secrets, true));
    }
    append(find_leaks(run.result->err, "stderr of " + command, secrets));
  }
  for (const auto& [name, value] : run.env) {
    if (name == "GITHUB_OUTPUT" || name == "GITHUB_STEP_SUMMARY" || name == "GITHUB_ENV" ||
        name == "GITHUB_STATE" || name == "GITHUB_PATH") {
      append(find_leaks(slurp(value), "$" + name + " of " + command, secrets));
    }
  }
  for (const auto& sim : live_sims()) append(scan_request_log(sim.state_dir, sim.name, secrets));
  return out;
}

void check_no_leaks(const GuardedRun& run) {
  if (!doctest::is_running_in_test) return;
  SecretSet secrets = secrets_of(run);
  std::vector<Leak> leaks = scan_run(run, secrets);
  CHECK_MESSAGE(leaks.empty(), describe(leaks));
}

}  // namespace fluxkey::testing
