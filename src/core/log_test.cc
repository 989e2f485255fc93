#include "core/log.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

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

TEST_CASE("debug records are written only when verbose, marked as such") {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::tmpfile(), &std::fclose);
  REQUIRE(file != nullptr);
  std::FILE* out = file.get();
  Logger log(out);
  log.debug("hidden", {{"status", "200"}});
  log.set_verbose(true);
  log.debug("http request", {{"status", "200"}});
  log.info("done");
  std::rewind(out);
  std::string text(256, '\0');
  text.resize(std::fread(text.data(), 1, text.size(), out));
  CHECK(text == "debug: http request status=200\ndone\n");
}

}  // namespace core_log_test
