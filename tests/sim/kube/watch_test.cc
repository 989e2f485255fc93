#include "sim/kube/watch.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

using namespace fluxkey::sim::watch;

TEST_CASE("watch event lines: type first, one JSON object a line") {
  nlohmann::json object = {{"kind", "Secret"}, {"metadata", {{"name", "x"}}}};
  std::string line = event_line("ADDED", object);
  CHECK(line.rfind("{\"type\":\"ADDED\",\"object\":", 0) == 0);
  CHECK(line.back() == '\n');
  CHECK(line.find('\n') == line.size() - 1);
  auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["object"] == object);
}

TEST_CASE("a selector turns changes into what the watcher can see") {
  CHECK(visible_type("ADDED", false, true) == "ADDED");
  CHECK(visible_type("ADDED", false, false).empty());
  CHECK(visible_type("MODIFIED", true, true) == "MODIFIED");
  CHECK(visible_type("MODIFIED", false, true) == "ADDED");
  CHECK(visible_type("MODIFIED", true, false) == "DELETED");
  CHECK(visible_type("MODIFIED", false, false).empty());
  CHECK(visible_type("DELETED", true, false) == "DELETED");
  CHECK(visible_type("DELETED", false, false).empty());
}
