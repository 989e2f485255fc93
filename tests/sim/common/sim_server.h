// The frame every stand-in (kube-sim, github-sim) runs in: HTTPS on
// 127.0.0.1 with a throwaway CA, the process protocol (state dir, URL line,
// SIGTERM), the request log, fault injection and latency. A stand-in only
// supplies a handler for its own API and, optionally, extra /_sim/ control
// endpoints.
//
// Process protocol: `<sim> --state-dir DIR [--port N] [flags]`. DIR is
// created when missing and receives ca.crt, url and requests.jsonl. When the
// socket is bound the URL is printed as the only line on stdout.
#pragma once

#include <httplib.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <utility>
#include <vector>

#include "sim/common/faults.h"
#include "sim/common/pki.h"
#include "sim/common/request_log.h"

namespace fluxkey::sim {

struct SimOptions {
  std::string state_dir;
  int port = 0;
  int threads = 64;  // long-lived watches each hold one
  // Stop when stdin reaches end of file: the parent holds the other end of a
  // pipe, so a stand-in never outlives a test binary that crashed.
  bool exit_with_stdin = false;
  // Subject alternative names of the server certificate. Tests give names
  // that leave out 127.0.0.1 to see a client refuse the wrong host name.
  std::string tls_names = kDefaultServerNames;
};

// Adds --state-dir (required), --port, --threads, --exit-with-stdin and
// --tls-names.
void add_sim_options(CLI::App& app, SimOptions& options);

// Per-request facts a stand-in hands back to the frame.
struct SimContext {
  std::string user;  // authenticated identity, written to the request log
};

using SimHandler = std::function<void(const httplib::Request&, httplib::Response&, SimContext&)>;
using ControlHandler = std::function<void(const httplib::Request&, httplib::Response&)>;
// Builds the reply of a `status` fault that names no body: {content_type, body}.
using FaultBodyBuilder = std::function<std::pair<std::string, std::string>(int status)>;

class SimServer {
 public:
  // `name` is the CA's common name and the prefix of log lines on stderr.
  SimServer(std::string name, SimOptions options);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  const Pki& pki() const { return *pki_; }
  const std::string& state_dir() const { return options_.state_dir; }
  const std::string& name() const { return name_; }
  // Valid from the on_ready callback on.
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }

  // Ask clients for a certificate signed by this CA, without requiring one.
  // Call before run().
  void request_client_certificates() { request_client_certs_ = true; }

  // Every request outside /_sim/ goes here, after faults and latency.
  void set_handler(SimHandler handler) { handler_ = std::move(handler); }
  // An extra control endpoint: method and an ECMAScript regex matched against
  // the whole path (e.g. "/_sim/tokens"). Control endpoints are never logged
  // nor faulted.
  void add_control(const std::string& method, const std::string& path_regex,
                   ControlHandler handler);
  void set_fault_body_builder(FaultBodyBuilder builder) { fault_body_ = std::move(builder); }
  // Runs once the port is known, before the URL is announced (e.g. to write a
  // kubeconfig that names the URL).
  void on_ready(std::function<void()> callback) { on_ready_ = std::move(callback); }

  // Binds, announces, serves until SIGTERM/SIGINT or stop(). Returns the
  // process exit code.
  int run();
  void stop();
  // True once shutdown began: long-lived replies (watches) must end then.
  bool stopping() const { return stopping_; }

  RequestLog& request_log() { return *log_; }

  // Writes a message on stderr prefixed with the stand-in's name.
  void note(const std::string& message) const;

 private:
  struct Control {
    std::string method;
    std::regex path;
    ControlHandler handler;
  };

  void dispatch(const httplib::Request& req, httplib::Response& res);
  bool dispatch_control(const httplib::Request& req, httplib::Response& res);
  void serve(const httplib::Request& req, httplib::Response& res, SimContext& ctx);
  void install_builtin_controls();

  std::string name_;
  SimOptions options_;
  std::unique_ptr<Pki> pki_;
  std::unique_ptr<httplib::SSLServer> server_;
  std::unique_ptr<RequestLog> log_;
  FaultSet faults_;
  std::atomic<int> latency_ms_{0};
  bool request_client_certs_ = false;
  int port_ = 0;
  SimHandler handler_;
  FaultBodyBuilder fault_body_;
  std::function<void()> on_ready_;
  std::vector<Control> controls_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> listen_done_{false};
};

// JSON reply helpers shared by stand-ins.
void reply_json(httplib::Response& res, int status, const nlohmann::json& body);

// Parses a request body as JSON; nullopt-like `discarded` value when invalid.
nlohmann::json parse_json_body(const httplib::Request& req);

// The client certificate the peer presented and this CA verified, if any.
X509Ptr verified_peer_certificate(const httplib::Request& req);

// The path without the query string, exactly as the client sent it (not
// percent-decoded), and the raw query string.
std::pair<std::string, std::string> split_target(const std::string& target);

}  // namespace fluxkey::sim
