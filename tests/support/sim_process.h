// Runs a stand-in (kube-sim, github-sim) for the length of a test: a private
// state dir, the process started and waited for (its URL line), a control
// client that trusts the stand-in's CA, and a bounded shutdown.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fluxkey::testing {

// The path a test binary finds in an environment variable (KUBE_SIM,
// GITHUB_SIM, FLUXKEY, set by tests/integration/meson.build). Throws when unset.
std::string binary_from_env(const char* name);

struct HttpReply {
  int status = 0;                              // 0: no reply (connection failed)
  std::string error;                           // httplib's reason when status is 0
  std::map<std::string, std::string> headers;  // last value per name, names as sent
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// The stand-ins alive in this process now, for the secret guard
// (support/secret_guard.h): each one's name ("kube-sim") and state dir, where
// it keeps issued-secrets.jsonl (what it minted or was given, 0600) and
// requests.jsonl.
struct LiveSim {
  std::string name;
  std::string state_dir;
};
std::vector<LiveSim> live_sims();

class SimProcess {
 public:
  // Starts `binary --state-dir <fresh temp dir> --exit-with-stdin extra_args...`
  // (the stand-in stops by itself if this process dies) and waits up to
  // `ready_timeout` for its URL line. Throws std::runtime_error on failure.
  SimProcess(const std::string& binary, const std::vector<std::string>& extra_args = {},
             std::chrono::milliseconds ready_timeout = std::chrono::seconds(10));
  // SIGTERM, up to 5 s grace, SIGKILL; checks (inside a test) that its
  // request log holds none of the secrets it issued; removes the state dir.
  ~SimProcess();
  SimProcess(const SimProcess&) = delete;
  SimProcess& operator=(const SimProcess&) = delete;

  const std::string& url() const { return url_; }  // https://127.0.0.1:PORT
  int port() const { return port_; }
  std::string ca_file() const { return state_dir_ + "/ca.crt"; }
  const std::string& state_dir() const { return state_dir_; }
  // The credentials it issued or was given (ServiceAccount and installation
  // tokens, static tokens, client keys): one {"kind", "value"} a line, 0600.
  std::string secrets_file() const { return state_dir_ + "/issued-secrets.jsonl"; }
  pid_t pid() const { return pid_; }

  // A request to the stand-in over HTTPS, verifying it against ca.crt.
  // Headers may carry credentials; nothing here logs them.
  HttpReply request(const std::string& method, const std::string& path,
                    const std::string& body = "", const std::string& content_type = "",
                    const std::map<std::string, std::string>& headers = {},
                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) const;

  // The name request() verifies the server certificate against (still
  // dialling 127.0.0.1), for a stand-in started with --tls-names that leave
  // out 127.0.0.1. Empty (the default): 127.0.0.1.
  void set_tls_host(const std::string& host) { tls_host_ = host; }

  // A control call (/_sim/...): the JSON reply; throws std::runtime_error on
  // a non-2xx status or an unparsable body.
  nlohmann::json control(const std::string& method, const std::string& path,
                         const nlohmann::json& body = nullptr) const;

  nlohmann::json requests(size_t since = 0) const;  // the request log, as an array
  void add_fault(const nlohmann::json& fault) const;
  void clear_faults() const;

  // Sends SIGTERM and waits (bounded) for the exit; returns the exit status
  // as waitpid reports it, or -1 when it had to be killed.
  int terminate(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  void close_stdin();

  std::string name_;
  std::string state_dir_;
  std::string url_;
  std::string tls_host_;
  int stdin_write_ = -1;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace fluxkey::testing
