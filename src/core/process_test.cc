#include "core/process.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <future>
#include <string>
#include <thread>

#include "core/error.h"
#include "support/temp_dir.h"

namespace core_process_test {

using namespace fluxkey;
using std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

namespace {

ProcessSpec shell(const std::string& script) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", script};
  spec.timeout = milliseconds(10'000);
  return spec;
}

std::string error_of(const ProcessSpec& spec) {
  try {
    run_process(spec);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("run_process captures stdout, stderr and the exit code") {
  auto r = run_process(shell("echo out; echo err >&2; exit 3"));
  CHECK(r.exit_code == 3);
  CHECK(r.signal == 0);
  CHECK_FALSE(r.timed_out);
  CHECK(r.out == "out\n");
  CHECK(r.err == "err\n");
}

TEST_CASE("run_process looks the program up on PATH and passes argv untouched") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "printf '%s|' \"$@\"", "zero", "a b", "$HOME", "'q'"};
  auto r = run_process(spec);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "a b|$HOME|'q'|");
}

TEST_CASE("run_process uses the PATH the spec sets for the lookup") {
  ProcessSpec spec;
  spec.argv = {"sh", "-c", "echo $PATH"};
  spec.env_set = {{"PATH", "/nonexistent-dir"}};
  CHECK(error_of(spec) == "cannot run sh: not found in PATH; install it or fix PATH");
  spec.env_set = {{"PATH", "/nonexistent-dir:/bin"}};
  CHECK(run_process(spec).out == "/nonexistent-dir:/bin\n");
}

TEST_CASE("run_process names the program it cannot start") {
  ProcessSpec missing;
  missing.argv = {"fluxkey-no-such-plugin-xyz"};
  CHECK(error_of(missing) ==
        "cannot run fluxkey-no-such-plugin-xyz: not found in PATH; install it or fix PATH");

  ProcessSpec absolute;
  absolute.argv = {"/nonexistent/plugin"};
  CHECK(error_of(absolute) == "cannot run /nonexistent/plugin: No such file or directory");

  fluxkey::testing::TempDir dir;
  std::string file = dir.write("not-executable", "", 0644);
  ProcessSpec denied;
  denied.argv = {file};
  CHECK(error_of(denied) == "cannot run " + file + ": Permission denied");

  CHECK_THROWS_AS(run_process(ProcessSpec{}), Error);
}

TEST_CASE("run_process writes stdin data, then closes it") {
  ProcessSpec spec;
  spec.argv = {"/bin/cat"};
  spec.stdin_data = "secret on stdin\n";
  auto r = run_process(spec);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "secret on stdin\n");

  // Larger than any pipe buffer both ways: stdin and stdout must be
  // serviced together or this deadlocks (and then times out).
  std::string big(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = '\n';
  spec.stdin_data = big;
  spec.timeout = milliseconds(20'000);
  r = run_process(spec);
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out == big);

  // Without data the child sees end of file at once instead of waiting.
  ProcessSpec empty = shell("cat; echo done");
  CHECK(run_process(empty).out == "done\n");
}

TEST_CASE("run_process survives a child that does not read its stdin") {
  ProcessSpec spec = shell("exit 0");
  spec.stdin_data = std::string(1024 * 1024, 'y');
  auto r = run_process(spec);
  CHECK(r.exit_code == 0);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("run_process ends a child that overruns its timeout") {
  ProcessSpec spec = shell("echo started; exec sleep 30");
  spec.timeout = milliseconds(300);
  auto start = SteadyClock::now();
  auto r = run_process(spec);
  auto took = SteadyClock::now() - start;
  CHECK(r.timed_out);
  CHECK(r.exit_code == -1);
  CHECK(r.signal == SIGTERM);
  CHECK(r.out == "started\n");
  CHECK(took < milliseconds(5'000));
}

TEST_CASE("run_process kills with SIGKILL what ignores SIGTERM, the whole group") {
  ProcessSpec spec = shell("trap '' TERM; sleep 30; echo survived");
  spec.timeout = milliseconds(200);
  auto start = SteadyClock::now();
  auto r = run_process(spec);
  auto took = SteadyClock::now() - start;
  CHECK(r.timed_out);
  CHECK(r.signal == SIGKILL);
  CHECK(r.out == "");
  CHECK(took < milliseconds(8'000));
}

TEST_CASE("run_process does not wait for a grandchild that keeps the pipes open") {
  ProcessSpec spec = shell("sleep 3 & echo done");
  spec.timeout = milliseconds(10'000);
  auto start = SteadyClock::now();
  auto r = run_process(spec);
  CHECK(SteadyClock::now() - start < milliseconds(2'500));
  CHECK_FALSE(r.timed_out);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "done\n");
}

TEST_CASE("signal_running_children reaches a running child's whole group, and only while it runs") {
  signal_running_children(SIGTERM);  // nothing running: a no-op
  // The shell and the sleep it starts both leave at once.
  auto run = std::async(std::launch::async, [] { return run_process(shell("sleep 30; echo no")); });
  auto start = SteadyClock::now();
  // Bounded: until the child is up, the signal finds no one (or the shell
  // before its sleep), so it is sent again.
  while (run.wait_for(milliseconds(50)) != std::future_status::ready &&
         SteadyClock::now() - start < milliseconds(5'000)) {
    signal_running_children(SIGTERM);
  }
  REQUIRE(run.wait_for(milliseconds(0)) == std::future_status::ready);
  auto r = run.get();
  CHECK(r.signal == SIGTERM);
  CHECK(r.out == "");
  CHECK_FALSE(r.timed_out);
  CHECK(SteadyClock::now() - start < milliseconds(5'000));
  // Reaped children are forgotten: this must not signal anyone.
  signal_running_children(SIGTERM);
  CHECK(run_process(shell("echo after")).out == "after\n");
}

TEST_CASE("run_process reports death by signal") {
  auto r = run_process(shell("kill -9 $$"));
  CHECK(r.exit_code == -1);
  CHECK(r.signal == SIGKILL);
  CHECK_FALSE(r.timed_out);
}

TEST_CASE("run_process passes an explicit environment") {
  ::setenv("FLUXKEY_TEST_KEEP", "kept", 1);
  ::setenv("FLUXKEY_TEST_DROP", "dropped", 1);
  ::setenv("FLUXKEY_TEST_OVERRIDE", "old", 1);
  ProcessSpec spec =
      shell("echo \"$FLUXKEY_TEST_KEEP|${FLUXKEY_TEST_DROP-unset}|$FLUXKEY_TEST_OVERRIDE|$NEW\"");
  spec.env_remove = {"FLUXKEY_TEST_DROP"};
  spec.env_set = {{"FLUXKEY_TEST_OVERRIDE", "new"}, {"NEW", "a=b c"}};
  CHECK(run_process(spec).out == "kept|unset|new|a=b c\n");

  ProcessSpec clean;
  clean.argv = {"/usr/bin/env"};
  clean.inherit_env = false;
  clean.env_set = {{"ONLY", "this"}};
  CHECK(run_process(clean).out == "ONLY=this\n");
  ::unsetenv("FLUXKEY_TEST_KEEP");
  ::unsetenv("FLUXKEY_TEST_DROP");
  ::unsetenv("FLUXKEY_TEST_OVERRIDE");
}

TEST_CASE("run_process leaks no descriptor into the child") {
  // Opened without O_CLOEXEC on purpose, as a careless library might.
  int leaky = ::open("/dev/null", O_RDONLY);
  REQUIRE(leaky >= 0);
  auto r = run_process(shell("ls /proc/self/fd"));
  ::close(leaky);
  // ls itself holds one descriptor on the directory it lists.
  CHECK(r.exit_code == 0);
  CHECK(r.out == "0\n1\n2\n3\n");
}

TEST_CASE("run_process can leave stdout to the parent") {
  ProcessSpec spec = shell("echo to-stderr >&2; exit 0");
  spec.capture_stdout = false;
  auto r = run_process(spec);
  CHECK(r.out.empty());
  CHECK(r.err == "to-stderr\n");
}

TEST_CASE("run_process works when fluxkey's own stdin and stdout are closed") {
  int saved_in = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
  int saved_out = ::fcntl(1, F_DUPFD_CLOEXEC, 10);
  REQUIRE(saved_in >= 0);
  REQUIRE(saved_out >= 0);
  ::close(0);
  ::close(1);
  ProcessSpec spec;
  spec.argv = {"/bin/cat"};
  spec.stdin_data = "through\n";
  ProcessResult r;
  std::string failure;
  try {
    r = run_process(spec);
  } catch (const std::exception& e) {
    failure = e.what();
  }
  ::dup2(saved_in, 0);
  ::dup2(saved_out, 1);
  ::close(saved_in);
  ::close(saved_out);
  CHECK(failure.empty());
  CHECK(r.exit_code == 0);
  CHECK(r.out == "through\n");
}

}  // namespace core_process_test
