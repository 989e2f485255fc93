#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace fluxkey {
namespace {

using SteadyClock = std::chrono::steady_clock;

// A child that prints more than this on one stream is drained but not
// stored: memory stays bounded whatever the child does.
constexpr size_t kMaxCaptured = 16 * 1024 * 1024;
// After SIGTERM the child gets this long to exit before SIGKILL.
constexpr std::chrono::milliseconds kTermGrace{2'000};
// Once the child has exited, a grandchild may still hold the pipes open
// (a daemon it started); stop reading after this long instead of waiting.
constexpr std::chrono::milliseconds kPipeGrace{200};

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = other.release();
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

// O_CLOEXEC from the start, so a child spawned concurrently by another
// thread never inherits our end.
// When fluxkey itself runs with 0, 1 or 2 closed, a pipe can land there and
// the child's dup2 onto 0/1/2 would shuffle the wrong ends: keep ours above.
Fd above_stdio(int fd, const std::string& program) {
  Fd owned(fd);
  if (fd > 2) return owned;
  int moved = ::fcntl(fd, F_DUPFD_CLOEXEC, 3);
  if (moved < 0) throw Error("cannot run " + program + ": fcntl: " + std::strerror(errno));
  return Fd(moved);
}

Pipe make_pipe(const std::string& program) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    throw Error("cannot run " + program + ": pipe: " + std::strerror(errno));
  }
  Fd read(fds[0]);
  Fd write(fds[1]);
  Pipe pipe;
  pipe.read = above_stdio(read.release(), program);
  pipe.write = above_stdio(write.release(), program);
  return pipe;
}

void set_nonblocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
}

class FileActions {
 public:
  FileActions() { ::posix_spawn_file_actions_init(&actions_); }
  ~FileActions() { ::posix_spawn_file_actions_destroy(&actions_); }
  FileActions(const FileActions&) = delete;
  FileActions& operator=(const FileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &actions_; }

 private:
  posix_spawn_file_actions_t actions_;
};

class SpawnAttr {
 public:
  SpawnAttr() { ::posix_spawnattr_init(&attr_); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

std::string env_name(const std::string& entry) {
  return entry.substr(0, entry.find('='));
}

std::vector<std::string> build_env(const ProcessSpec& spec) {
  std::vector<std::string> env;
  if (spec.inherit_env) {
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
      std::string entry = *e;
      std::string name = env_name(entry);
      bool drop = false;
      for (const auto& removed : spec.env_remove) drop = drop || removed == name;
      for (const auto& [set_name, value] : spec.env_set) drop = drop || set_name == name;
      if (!drop) env.push_back(std::move(entry));
    }
  }
  for (const auto& [name, value] : spec.env_set) env.push_back(name + "=" + value);
  return env;
}

bool is_executable_file(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

// As Go's exec.LookPath: the PATH the child will get when the spec sets
// one, else ours. Empty and relative entries are skipped, so a program is
// never picked up from the current directory by accident.
std::string look_path(const ProcessSpec& spec) {
  const std::string& program = spec.argv[0];
  if (program.find('/') != std::string::npos) return program;
  std::optional<std::string> path;
  for (const auto& [name, value] : spec.env_set) {
    if (name == "PATH") path = value;
  }
  if (!path) {
    const char* ours = std::getenv("PATH");
    path = ours != nullptr ? ours : "/usr/local/bin:/usr/bin:/bin";
  }
  size_t start = 0;
  while (start <= path->size()) {
    size_t end = path->find(':', start);
    if (end == std::string::npos) end = path->size();
    std::string dir = path->substr(start, end - start);
    if (!dir.empty() && dir[0] == '/') {
      std::string candidate = dir + "/" + program;
      if (is_executable_file(candidate)) return candidate;
    }
    start = end + 1;
  }
  throw Error("cannot run " + program + ": not found in PATH; install it or fix PATH");
}

// Writing to a pipe whose reader is gone raises SIGPIPE, which would kill
// fluxkey. Block it on this thread for the write and swallow the one the
// write may leave pending; EPIPE then reports the closed pipe.
ssize_t write_no_sigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigset_t pending;
  sigemptyset(&pending);
  sigpending(&pending);
  bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n = ::write(fd, data, size);
  int saved_errno = errno;
  if (n < 0 && errno == EPIPE && !was_pending) {
    struct timespec zero {};
    while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
    }
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved_errno;
  return n;
}

struct Reader {
  Fd fd;
  std::string* out;
};

// Reads what is available; false at end of file (or an error, same thing
// for a pipe).
bool drain(Reader& reader) {
  char buf[16384];
  for (;;) {
    ssize_t n = ::read(reader.fd.get(), buf, sizeof buf);
    if (n > 0) {
      size_t room = kMaxCaptured - std::min(kMaxCaptured, reader.out->size());
      reader.out->append(buf, std::min(room, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
    return false;
  }
}

int poll_timeout_ms(SteadyClock::time_point until, std::chrono::milliseconds cap) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - SteadyClock::now());
  if (left < std::chrono::milliseconds(0)) left = std::chrono::milliseconds(0);
  return static_cast<int>(std::min(left, cap).count());
}

void record_status(int status, ProcessResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.exit_code = -1;
    result.signal = WTERMSIG(status);
  }
}

// The children running now, for signal_running_children. A lock-free
// atomic is the one shared state a signal handler may read.
std::atomic<pid_t> g_running[8];
static_assert(std::atomic<pid_t>::is_always_lock_free);

// A child's entry in g_running from its spawn until it is reaped. Fatal
// signals are held off from before the spawn until the entry is in, so none
// lands in between and leaves the child behind.
class RunningChild {
 public:
  RunningChild() {
    sigset_t fatal;
    sigemptyset(&fatal);
    for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&fatal, sig);
    ::pthread_sigmask(SIG_BLOCK, &fatal, &previous_mask_);
  }
  ~RunningChild() {
    reaped();
    unblock();
  }
  RunningChild(const RunningChild&) = delete;
  RunningChild& operator=(const RunningChild&) = delete;

  void started(pid_t pid) {
    for (auto& slot : g_running) {
      pid_t none = 0;
      if (slot.compare_exchange_strong(none, pid)) {
        slot_ = &slot;
        break;
      }
    }
    unblock();
  }
  // Once reaped, its pid may be reused: no signal may go there any more.
  void reaped() {
    if (slot_) slot_->store(0);
    slot_ = nullptr;
  }

 private:
  void unblock() {
    if (blocked_) ::pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
    blocked_ = false;
  }
  sigset_t previous_mask_;
  bool blocked_ = true;
  std::atomic<pid_t>* slot_ = nullptr;
};

// Non-blocking reap; true once the child is gone.
bool try_reap(pid_t pid, ProcessResult& result) {
  int status = 0;
  pid_t r;
  do {
    r = ::waitpid(pid, &status, WNOHANG);
  } while (r < 0 && errno == EINTR);
  if (r == pid) {
    record_status(status, result);
    return true;
  }
  return r < 0;  // ECHILD: someone else reaped it; nothing left to wait for
}

// SIGTERM to the child's process group (it leads one, so shell scripts and
// what they started go too), SIGKILL after a grace period.
void terminate(pid_t pid, ProcessResult& result) {
  ::kill(-pid, SIGTERM);
  auto until = SteadyClock::now() + kTermGrace;
  while (SteadyClock::now() < until) {
    if (try_reap(pid, result)) {
      ::kill(-pid, SIGKILL);  // stragglers in the group
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(-pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  record_status(status, result);
}

}  // namespace

void signal_running_children(int sig) {
  for (auto& slot : g_running) {
    pid_t pid = slot.load();
    if (pid > 0) ::kill(-pid, sig);
  }
}

ProcessResult run_process(const ProcessSpec& spec) {
  if (spec.argv.empty() || spec.argv[0].empty()) throw Error("run_process: no program given");
  const std::string& program = spec.argv[0];
  std::string resolved = look_path(spec);

  std::vector<std::string> env = build_env(spec);
  std::vector<char*> envp;
  for (auto& entry : env) envp.push_back(entry.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = spec.argv;
  std::vector<char*> argvp;
  for (auto& arg : args) argvp.push_back(arg.data());
  argvp.push_back(nullptr);

  Pipe in = make_pipe(program);
  std::optional<Pipe> out, err;
  if (spec.capture_stdout) out = make_pipe(program);
  if (spec.capture_stderr) err = make_pipe(program);

  FileActions actions;
  // dup2 onto 0/1/2 clears O_CLOEXEC on the copy; every other descriptor
  // (ours, and any a library opened without O_CLOEXEC) is closed.
  ::posix_spawn_file_actions_adddup2(actions.get(), in.read.get(), 0);
  if (out) ::posix_spawn_file_actions_adddup2(actions.get(), out->write.get(), 1);
  if (err) ::posix_spawn_file_actions_adddup2(actions.get(), err->write.get(), 2);
  ::posix_spawn_file_actions_addclosefrom_np(actions.get(), 3);

  SpawnAttr attr;
  sigset_t no_signals, default_signals;
  sigemptyset(&no_signals);
  sigemptyset(&default_signals);
  sigaddset(&default_signals, SIGPIPE);
  sigaddset(&default_signals, SIGINT);
  sigaddset(&default_signals, SIGTERM);
  sigaddset(&default_signals, SIGQUIT);
  ::posix_spawnattr_setsigmask(attr.get(), &no_signals);
  ::posix_spawnattr_setsigdefault(attr.get(), &default_signals);
  // Its own process group, so a timeout can end everything it started.
  ::posix_spawnattr_setpgroup(attr.get(), 0);
  ::posix_spawnattr_setflags(
      attr.get(), POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  pid_t pid = -1;
  RunningChild running;
  // glibc's posix_spawn reports exec failures (ENOENT, EACCES) as its result.
  int rc =
      ::posix_spawn(&pid, resolved.c_str(), actions.get(), attr.get(), argvp.data(), envp.data());
  if (rc != 0) throw Error("cannot run " + program + ": " + std::strerror(rc));
  running.started(pid);

  in.read.reset();
  if (out) out->write.reset();
  if (err) err->write.reset();

  ProcessResult result;
  std::vector<Reader> readers;
  if (out) readers.push_back(Reader{std::move(out->read), &result.out});
  if (err) readers.push_back(Reader{std::move(err->read), &result.err});
  for (auto& reader : readers) set_nonblocking(reader.fd.get());

  Fd stdin_fd = std::move(in.write);
  size_t stdin_written = 0;
  if (spec.stdin_data.empty()) {
    stdin_fd.reset();
  } else {
    set_nonblocking(stdin_fd.get());
  }

  const auto deadline = SteadyClock::now() + spec.timeout;
  bool exited = false;
  std::optional<SteadyClock::time_point> pipe_deadline;
  // One loop feeds stdin and drains both outputs, so a child that writes a
  // lot before reading all its input cannot deadlock us.
  for (;;) {
    if (!exited && try_reap(pid, result)) {
      running.reaped();
      exited = true;
      pipe_deadline = SteadyClock::now() + kPipeGrace;
      stdin_fd.reset();
    }
    bool readers_open = false;
    for (auto& reader : readers) readers_open = readers_open || reader.fd.valid();
    if (exited && (!readers_open || SteadyClock::now() >= *pipe_deadline)) break;
    if (!exited && SteadyClock::now() >= deadline) {
      result.timed_out = true;
      stdin_fd.reset();
      terminate(pid, result);
      running.reaped();
      for (auto& reader : readers) {
        if (reader.fd.valid()) drain(reader);
      }
      break;
    }

    std::vector<pollfd> fds;
    for (auto& reader : readers) {
      if (reader.fd.valid()) fds.push_back(pollfd{reader.fd.get(), POLLIN, 0});
    }
    if (stdin_fd.valid()) fds.push_back(pollfd{stdin_fd.get(), POLLOUT, 0});
    // Bounded waits: the loop also has to notice the child's exit (it may
    // close its outputs long before, or never, if a grandchild keeps them).
    int wait_ms =
        poll_timeout_ms(exited ? *pipe_deadline : deadline, std::chrono::milliseconds(20));
    int n = ::poll(fds.data(), fds.size(), wait_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      int saved = errno;
      terminate(pid, result);
      throw Error("cannot run " + program + ": poll: " + std::strerror(saved));
    }
    for (const auto& p : fds) {
      if (p.revents == 0) continue;
      if (p.fd == stdin_fd.get()) {
        ssize_t w = write_no_sigpipe(stdin_fd.get(), spec.stdin_data.data() + stdin_written,
                                     spec.stdin_data.size() - stdin_written);
        if (w > 0) stdin_written += static_cast<size_t>(w);
        // A child that stops reading early is its business, not an error.
        if ((w < 0 && errno != EAGAIN && errno != EINTR) ||
            stdin_written == spec.stdin_data.size()) {
          stdin_fd.reset();
        }
        continue;
      }
      for (auto& reader : readers) {
        if (reader.fd.get() == p.fd && !drain(reader)) reader.fd.reset();
      }
    }
  }
  return result;
}

const std::vector<std::string>& secret_env_names() {
  static const std::vector<std::string> names = {
      "GITHUB_TOKEN",           "GH_TOKEN",
      "GH_ENTERPRISE_TOKEN",    "GITHUB_ENTERPRISE_TOKEN",
      "GITHUB_APP_PRIVATE_KEY", "FLUXKEY_KUBECONFIG_DATA",
      "INPUT_KUBECONFIG",
  };
  return names;
}

}  // namespace fluxkey
