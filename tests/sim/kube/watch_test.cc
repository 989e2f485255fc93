#include "sim/kube/watch.h"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

namespace kube_watch_test {

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

TEST_CASE("watch cuts: defaults, and each bad field named") {
  WatchCut cut = parse_watch_cut(nlohmann::json::object());
  CHECK(cut.after_events == 1);
  CHECK(cut.times == 1);
  CHECK_FALSE(cut.reset);
  CHECK(std::regex_search("/apis/x/v1/namespaces/a/things", cut.path));
  cut = parse_watch_cut(
      {{"path", "/gitrepositories$"}, {"after_events", 0}, {"how", "reset"}, {"times", -1}});
  CHECK(cut.after_events == 0);
  CHECK(cut.reset);
  CHECK(cut.times == -1);
  CHECK_FALSE(std::regex_search("/apis/x/v1/namespaces/a/kustomizations", cut.path));
  CHECK_THROWS_WITH(parse_watch_cut({{"after_events", -1}}), doctest::Contains("after_events"));
  CHECK_THROWS_WITH(parse_watch_cut({{"times", 0}}), doctest::Contains("times"));
  CHECK_THROWS_WITH(parse_watch_cut({{"how", "drop"}}), doctest::Contains("how"));
  CHECK_THROWS_WITH(parse_watch_cut({{"path", "("}}), doctest::Contains("path"));
  CHECK_THROWS_WITH(parse_watch_cut({{"after_events", "1"}}), doctest::Contains("integer"));
}

}  // namespace kube_watch_test
