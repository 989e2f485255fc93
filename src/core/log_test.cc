#include "core/log.h"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

namespace core_log_test {

using namespace fluxkey;

TEST_CASE("a text log record is one line whatever it quotes") {
  Logger log;
  // A Lease holder or a Flux condition message is the server's text.
  std::string line = log.render(LogLevel::kInfo, "held by a\nerror: forged", {{"why", "x\r\ny"}});
  CHECK(line == "held by a\\nerror: forged why=x\\r\\ny");
  CHECK(log.render(LogLevel::kWarn, "plain", {}) == "warning: plain");
}

TEST_CASE("a JSON log record keeps the text, escaped by JSON") {
  Logger log;
  log.set_format(LogFormat::kJson);
  std::string line = log.render(LogLevel::kError, "a\nb", {{"target", "acme/app"}});
  CHECK(line.find('\n') == std::string::npos);
  auto record = nlohmann::json::parse(line);
  CHECK(record["msg"] == "a\nb");
  CHECK(record["level"] == "error");
  CHECK(record["target"] == "acme/app");
}

}  // namespace core_log_test
