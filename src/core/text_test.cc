#include "core/text.h"

#include <doctest/doctest.h>

namespace fluxkey::core_text_test {

TEST_CASE("lower_ascii lowers A-Z and nothing else") {
  CHECK(lower_ascii("Content-Type") == "content-type");
  CHECK(lower_ascii("HelmRelease") == "helmrelease");
  CHECK(lower_ascii("") == "");
  // Bytes past ASCII (UTF-8 here) stay as they are, whatever the locale.
  CHECK(lower_ascii("\xC3\x84rger @[`{") == "\xC3\x84rger @[`{");
}

TEST_CASE("trim drops spaces, tabs and line breaks at both ends only") {
  CHECK(trim(" \t a b \r\n") == "a b");
  CHECK(trim(" \n\t") == "");
}

TEST_CASE("quote writes control characters as escapes") {
  CHECK(quote("a\nb\x1b") == "\"a\\nb\\x1b\"");
}

}  // namespace fluxkey::core_text_test
