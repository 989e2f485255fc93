#include "support/sim_process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support/secret_guard.h"

extern char** environ;

namespace fluxkey::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

class SpawnActions {
 public:
  SpawnActions() { posix_spawn_file_actions_init(&actions_); }
  ~SpawnActions() { posix_spawn_file_actions_destroy(&actions_); }
  SpawnActions(const SpawnActions&) = delete;
  SpawnActions& operator=(const SpawnActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

// Waits for the child until the deadline; true when it was reaped.
bool wait_until(pid_t pid, SteadyClock::time_point deadline, int* status) {
  while (true) {
    pid_t r = ::waitpid(pid, status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) return true;  // not our child any more
    if (SteadyClock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

struct Registry {
  std::mutex mu;
  std::vector<LiveSim> sims;
};

Registry& registry() {
  static Registry r;
  return r;
}

void register_sim(const std::string& name, const std::string& state_dir) {
  std::lock_guard lock(registry().mu);
  registry().sims.push_back({name, state_dir});
}

void unregister_sim(const std::string& state_dir) {
  std::lock_guard lock(registry().mu);
  auto& sims = registry().sims;
  std::erase_if(sims, [&](const LiveSim& s) { return s.state_dir == state_dir; });
}

}  // namespace

std::vector<LiveSim> live_sims() {
  std::lock_guard lock(registry().mu);
  return registry().sims;
}

std::string binary_from_env(const char* name) {
  const char* value = std::getenv(name);
  if (!value || !*value) {
    throw std::runtime_error(std::string(name) +
                             " is not set: run the integration tests through meson test");
  }
  return value;
}

SimProcess::SimProcess(const std::string& binary, const std::vector<std::string>& extra_args,
                       std::chrono::milliseconds ready_timeout) {
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/fluxkey-sim-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    throw std::runtime_error("mkdtemp " + tmpl + ": " + std::strerror(errno));
  }
  state_dir_ = tmpl;

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::filesystem::remove_all(state_dir_);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);
  // The child's stdin: this process keeps the write end (close-on-exec) until
  // the destructor, so the stand-in sees end of file when the test binary
  // dies and stops by itself (--exit-with-stdin).
  int stdin_fds[2];
  if (::pipe2(stdin_fds, O_CLOEXEC) != 0) {
    std::filesystem::remove_all(state_dir_);
    throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
  }
  Fd stdin_read(stdin_fds[0]);
  stdin_write_ = stdin_fds[1];

  std::vector<std::string> args = {binary, "--state-dir", state_dir_, "--exit-with-stdin"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  SpawnActions actions;
  posix_spawn_file_actions_adddup2(actions.get(), write_end.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(actions.get(), stdin_read.get(), STDIN_FILENO);
  int rc = ::posix_spawn(&pid_, binary.c_str(), actions.get(), nullptr, argv.data(), environ);
  write_end.reset();
  stdin_read.reset();
  if (rc != 0) {
    pid_ = -1;
    close_stdin();
    std::filesystem::remove_all(state_dir_);
    throw std::runtime_error("cannot start " + binary + ": " + std::strerror(rc));
  }

  std::string out;
  std::string failure;
  auto deadline = SteadyClock::now() + ready_timeout;
  while (out.find('\n') == std::string::npos) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
    if (left.count() <= 0) {
      failure = "no URL line within " + std::to_string(ready_timeout.count()) + " ms";
      break;
    }
    pollfd p{read_end.get(), POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) continue;
    char buf[512];
    ssize_t got = ::read(read_end.get(), buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      failure = "exited before printing its URL";
      break;
    }
    out.append(buf, static_cast<size_t>(got));
  }
  if (failure.empty()) {
    url_ = out.substr(0, out.find('\n'));
    const std::string prefix = "https://127.0.0.1:";
    if (url_.rfind(prefix, 0) != 0) {
      failure = "printed an unexpected first line: " + url_;
    } else {
      port_ = std::atoi(url_.c_str() + prefix.size());
    }
  }
  if (!failure.empty()) {
    terminate(std::chrono::seconds(2));
    close_stdin();
    std::filesystem::remove_all(state_dir_);
    throw std::runtime_error(binary + " " + failure);
  }
  name_ = std::filesystem::path(binary).filename().string();
  register_sim(name_, state_dir_);
}

SimProcess::~SimProcess() {
  terminate();
  close_stdin();
  unregister_sim(state_dir_);
  if (doctest::is_running_in_test) {
    SecretSet issued;
    issued.add_ledger(secrets_file(), name_);
    std::vector<Leak> leaks = scan_request_log(state_dir_, name_, issued);
    CHECK_MESSAGE(leaks.empty(), describe(leaks));
  }
  std::error_code ec;
  std::filesystem::remove_all(state_dir_, ec);
}

void SimProcess::close_stdin() {
  if (stdin_write_ >= 0) ::close(stdin_write_);
  stdin_write_ = -1;
}

int SimProcess::terminate(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  int status = 0;
  ::kill(pid_, SIGTERM);
  bool reaped = wait_until(pid_, SteadyClock::now() + grace, &status);
  if (!reaped) {
    ::kill(pid_, SIGKILL);
    wait_until(pid_, SteadyClock::now() + std::chrono::seconds(5), &status);
    status = -1;
  }
  pid_ = -1;
  return status;
}

HttpReply SimProcess::request(const std::string& method, const std::string& path,
                              const std::string& body, const std::string& content_type,
                              const std::map<std::string, std::string>& headers,
                              std::chrono::milliseconds timeout) const {
  // A stand-in told to reset connections makes OpenSSL's writes raise
  // SIGPIPE, which would kill the test binary; the write error is what the
  // test wants to see.
  static const bool sigpipe_ignored = [] {
    ::signal(SIGPIPE, SIG_IGN);
    return true;
  }();
  (void)sigpipe_ignored;
  httplib::SSLClient cli(tls_host_.empty() ? "127.0.0.1" : tls_host_, port_);
  if (!tls_host_.empty()) cli.set_hostname_addr_map({{tls_host_, "127.0.0.1"}});
  cli.set_ca_cert_path(ca_file().c_str());
  cli.enable_server_certificate_verification(true);
  cli.set_connection_timeout(timeout);
  cli.set_read_timeout(timeout);
  cli.set_write_timeout(timeout);
  httplib::Request req;
  req.method = method;
  req.path = path;
  for (const auto& [k, v] : headers) req.headers.emplace(k, v);
  if (!content_type.empty()) req.headers.emplace("Content-Type", content_type);
  req.body = body;
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  HttpReply reply;
  if (!cli.send(req, res, error)) {
    reply.error = httplib::to_string(error);
    return reply;
  }
  reply.status = res.status;
  for (const auto& [k, v] : res.headers) reply.headers[k] = v;
  reply.body = res.body;
  return reply;
}

nlohmann::json SimProcess::control(const std::string& method, const std::string& path,
                                   const nlohmann::json& body) const {
  HttpReply reply = request(method, path, body.is_null() ? "" : body.dump(),
                            body.is_null() ? "" : "application/json");
  if (reply.status < 200 || reply.status > 299) {
    throw std::runtime_error(method + " " + path + " -> " +
                             (reply.status ? std::to_string(reply.status) : reply.error) + ": " +
                             reply.body);
  }
  nlohmann::json out = reply.json();
  if (out.is_discarded()) throw std::runtime_error(method + " " + path + ": reply is not JSON");
  return out;
}

nlohmann::json SimProcess::requests(size_t since) const {
  return control("GET", "/_sim/requests?since=" + std::to_string(since));
}

void SimProcess::add_fault(const nlohmann::json& fault) const {
  control("POST", "/_sim/faults", fault);
}

void SimProcess::clear_faults() const {
  control("DELETE", "/_sim/faults");
}

}  // namespace fluxkey::testing
