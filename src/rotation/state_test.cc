#include "rotation/state.h"

#include <doctest/doctest.h>

using namespace fluxkey;
using namespace fluxkey::rotation;

TEST_CASE("rotation state: target records survive the annotation round trip") {
  std::map<std::string, TargetRecord> records;
  auto t = parse_rfc3339("2026-11-28T20:00:00Z");
  records["acme/app"] = {7, t, "", std::nullopt};
  records["acme/app:prod"] = {6, t, "environment prod of acme/app: Not Found", t};
  records["org:acme"] = {};
  auto back = decode_targets(encode_targets(records));
  REQUIRE(back.size() == 3);
  CHECK(back["acme/app"].generation == 7);
  CHECK(back["acme/app"].pushed_at == t);
  CHECK(back["acme/app"].error.empty());
  CHECK(back["acme/app:prod"].error == "environment prod of acme/app: Not Found");
  CHECK(back["acme/app:prod"].failed_at == t);
  CHECK(back["org:acme"].generation == 0);
  CHECK_FALSE(back["org:acme"].pushed_at);
}

TEST_CASE("rotation state: an annotation that does not parse means no record at all") {
  CHECK(decode_targets("").empty());
  CHECK(decode_targets("{not json").empty());
  CHECK(decode_targets("[1,2]").empty());
  auto partial = decode_targets(R"({"a/b": {"generation": "x"}, "c/d": 3})");
  REQUIRE(partial.size() == 1);
  CHECK(partial["a/b"].generation == 0);
}
