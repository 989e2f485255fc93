// Secret hygiene for the integration tests: every output of every fluxkey
// run (stdout, stderr, the files it writes for the Action) and every
// stand-in's request log is searched for the credentials in play, and the
// test fails when one shows up. The credentials are found without each test
// naming them: from the child's environment and flags (GITHUB_TOKEN,
// FLUXKEY_KUBECONFIG_DATA, the tokens and keys inside kubeconfigs passed in...)
// and from what the stand-ins issued (their issued-secrets.jsonl ledger).
//
// run_program() applies the guard to every run of $FLUXKEY (see
// fluxkey_run.h); the pieces are public so that a test can prove the scanner
// finds what is planted.
#pragma once

#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/process.h"

namespace fluxkey::testing {

using Env = std::vector<std::pair<std::string, std::string>>;

// Shorter values are not looked for: they would match ordinary text by chance.
constexpr size_t kMinSecretLength = 8;

// The credentials a run may hold, each with the forms it could leak in.
class SecretSet {
 public:
  struct Needle {
    std::string text;
    std::string origin;  // where the secret came from ("GITHUB_TOKEN"); never the value
    std::string form;    // "raw", "base64", "base64url", "PEM line"
  };

  // The value as is, and as it reads inside any standard or URL-safe base64
  // text, wherever it sits in the encoded data (all three alignments).
  void add(std::string_view value, const std::string& origin);
  // A PEM text: the whole of it (as add()) and each line of the body of its
  // PRIVATE KEY blocks, which is how a key leaks into a log line by line.
  void add_pem(std::string_view pem, const std::string& origin);
  // A kubeconfig: the whole text, the credentials in it (token, password,
  // client-key-data and the PEM it encodes, auth-provider tokens) and the
  // files it names (tokenFile, client-key; relative to `base_dir`).
  void add_kubeconfig(std::string_view yaml, const std::string& origin,
                      const std::string& base_dir = ".");
  void add_kubeconfig_file(const std::string& path, const std::string& origin);
  // As FLUXKEY_KUBECONFIG_DATA and the action's kubeconfig input: raw YAML or
  // its base64.
  void add_kubeconfig_data(std::string_view data, const std::string& origin);
  // Variables that carry credentials (core/process.h's secret_env_names(),
  // any *_TOKEN, *_PRIVATE_KEY, *_PASSWORD, *_SECRET) and the kubeconfigs
  // KUBECONFIG names.
  void add_from_env(const Env& env);
  // The files fluxkey's flags name: --kubeconfig, --github-token-file,
  // --github-app-key, and the same keys of a --config file.
  void add_from_args(const std::vector<std::string>& args);
  // A stand-in's issued-secrets.jsonl: one {"kind", "value"} a line.
  void add_ledger(const std::string& path, const std::string& origin);

  const std::vector<Needle>& needles() const { return needles_; }
  // Secrets added (each with several needles).
  size_t secrets() const { return secrets_; }

 private:
  void add_needle(std::string text, const std::string& origin, const std::string& form);

  std::vector<Needle> needles_;
  std::set<std::string> seen_;
  size_t secrets_ = 0;
};

struct Leak {
  std::string where;   // "stderr of fluxkey sync", "$GITHUB_OUTPUT", "kube-sim requests.jsonl"
  std::string origin;  // the needle's origin
  std::string form;
  size_t offset = 0;
  std::string context;  // the text around it, the secret shown as <SECRET>
};

// Every needle found in `text`. With skip_mask_commands, lines that are the
// runner's `::add-mask::VALUE` command are left out: printing the value to
// mask is that command's purpose, and the runner never shows the line.
std::vector<Leak> find_leaks(std::string_view text, const std::string& where,
                             const SecretSet& secrets, bool skip_mask_commands = false);

// One line a leak, for a failed check's message.
std::string describe(const std::vector<Leak>& leaks);

// What one run of fluxkey produced, as the guard sees it.
struct GuardedRun {
  std::vector<std::string> argv;
  Env env;
  const ProcessResult* result = nullptr;
  // Non-empty: stdout is the credential by design (`fluxkey kubeconfig`
  // without --output); only stderr and the files are searched.
  std::string stdout_credential_reason;
};

// The secrets of a run (env, flags, live stand-ins' ledgers) and every leak
// of them in its outputs, the Action's files it was given, and the live
// stand-ins' request logs. No doctest check: check_no_leaks() does that.
SecretSet secrets_of(const GuardedRun& run);
std::vector<Leak> scan_run(const GuardedRun& run, const SecretSet& secrets);

// Fails the running test (a doctest CHECK) when scan_run finds anything.
void check_no_leaks(const GuardedRun& run);

// The live stand-ins' request logs against their own ledgers (a stand-in's
// destructor calls it for itself: tests without a fluxkey run are covered).
std::vector<Leak> scan_request_log(const std::string& state_dir, const std::string& name,
                                   const SecretSet& secrets);

}  // namespace fluxkey::testing
