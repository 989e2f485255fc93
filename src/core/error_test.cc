#include "core/error.h"

#include <doctest/doctest.h>

#include <string>

#include "core/file.h"

namespace core_error_test {

using namespace fluxkey;

TEST_CASE("an Error's message is one line whatever it quotes") {
  // What a Kubernetes Status reason or a --config value can hold (found by
  // fuzz/kube_reply and fuzz/config_file).
  CHECK(std::string(Error("denied (F\x7frbidd\n)").what()) == "denied (F\\x7frbidd\\n)");
  CHECK(std::string(UsageError("bad\r\nvalue\t\x1b").what()) == "bad\\r\\nvalue\\t\\x1b");
  CHECK(UsageError("x").code() == ExitCode::kUsage);
  // Already printable text stays as it is (escaping twice changes nothing).
  const std::string once = Error("a\nb \\n \"c\" caf\xc3\xa9").what();
  CHECK(std::string(Error(once).what()) == once);
}

TEST_CASE("read_file names an odd path on one line") {
  try {
    read_file("/nonexistent/a\nb\r", "--server-ca");
    FAIL("read an absent file");
  } catch (const UsageError& e) {
    CHECK(std::string(e.what()) ==
          "cannot read --server-ca /nonexistent/a\\nb\\r: No such file or directory");
  }
}

}  // namespace core_error_test
