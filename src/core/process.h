// Running a child program (exec credential plugins, the flux CLI): argv
// without a shell, an explicit environment, bounded by a timeout, output
// captured. Secrets are passed on stdin or in 0600 files, never in argv.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace fluxkey {

struct ProcessSpec {
  std::vector<std::string> argv;  // argv[0] is looked up on PATH when it has no '/'
  bool inherit_env = true;
  std::vector<std::string> env_remove;                       // names dropped from the inherited env
  std::vector<std::pair<std::string, std::string>> env_set;  // added or overriding
  std::string stdin_data;                                    // written, then stdin is closed
  std::chrono::milliseconds timeout{60'000};
  bool capture_stdout = true;  // otherwise inherited
  bool capture_stderr = true;  // otherwise inherited
};

struct ProcessResult {
  int exit_code = -1;  // -1 when killed by a signal or not started
  int signal = 0;
  bool timed_out = false;
  std::string out;
  std::string err;
};

// Throws Error when the program cannot be started (not found, not executable),
// naming it. A non-zero exit is reported in the result, not thrown.
ProcessResult run_process(const ProcessSpec& spec);

// Sends `sig` to the process group of every child run_process is running.
// Children lead groups of their own (so a timeout ends what they started),
// which a signal to fluxkey's group no longer reaches: a handler for a fatal
// signal calls this so the children end with fluxkey. Async-signal-safe.
void signal_running_children(int sig);

// Environment variables that carry fluxkey's own secrets (GitHub tokens and
// keys, kubeconfig data). Children get env_remove = these, so a credential
// plugin or the flux CLI never sees them.
const std::vector<std::string>& secret_env_names();

}  // namespace fluxkey
