#include "action/workflow_commands.h"

#include <doctest/doctest.h>

#include <cstdio>
#include <set>
#include <string>

#include "core/error.h"
#include "support/kube_fakes.h"

namespace action_workflow_commands_test {

using namespace fluxkey;
using namespace fluxkey::action;

namespace {

// Everything written to a WorkflowCommands, read back.
struct Captured {
  std::FILE* file = std::tmpfile();
  ~Captured() { std::fclose(file); }
  std::string text() const {
    std::string out;
    std::rewind(file);
    char buffer[4096];
    size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) out.append(buffer, n);
    return out;
  }
};

}  // namespace

TEST_CASE("command data escapes %, CR and LF; properties also : and ,") {
  CHECK(escape_data("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext: a,b");
  CHECK(escape_property("50% done\r\nnext: a,b") == "50%25 done%0D%0Anext%3A a%2Cb");
  CHECK(escape_data("%0A") == "%250A");
  CHECK(format_command("error", {{"title", "fluxkey: failed, twice"}}, "line 1\nline 2") ==
        "::error title=fluxkey%3A failed%2C twice::line 1%0Aline 2");
  CHECK(format_command("error", {{"title", ""}}, "x") == "::error::x");
  CHECK(format_command("warning", {{"title", "a"}, {"file", "b.yml"}}, "") ==
        "::warning title=a,file=b.yml::");
}

TEST_CASE("workflow commands are written one a line, in order") {
  Captured out;
  WorkflowCommands commands(out.file);
  commands.add_mask("s3cr%t");
  commands.add_mask("");  // nothing to mask: no line
  commands.group("Reconcile Kustomization flux-system/flux-system");
  std::string token = commands.stop_commands();
  commands.line("::set-output name=x::injected\n::error::also injected");
  commands.resume_commands(token);
  commands.end_group();
  commands.error("it failed\nbadly", "fluxkey");
  commands.warning("soon", "");

  CHECK(token.starts_with("fluxkey-"));
  CHECK(token.size() == 8 + 32);
  CHECK(out.text() ==
        "::add-mask::s3cr%25t\n"
        "::group::Reconcile Kustomization flux-system/flux-system\n"
        "::stop-commands::" +
            token +
            "\n"
            "::set-output name=x::injected ::error::also injected\n"
            "::" +
            token +
            "::\n"
            "::endgroup::\n"
            "::error title=fluxkey::it failed%0Abadly\n"
            "::warning::soon\n");
}

TEST_CASE("stop-commands tokens and output delimiters are random") {
  Captured out;
  WorkflowCommands commands(out.file);
  std::set<std::string> tokens;
  for (int i = 0; i < 20; ++i) tokens.insert(commands.stop_commands());
  CHECK(tokens.size() == 20);
  std::set<std::string> delimiters;
  for (int i = 0; i < 20; ++i) delimiters.insert(make_delimiter("name", "value"));
  CHECK(delimiters.size() == 20);
}

TEST_CASE("outputs use the heredoc syntax with a delimiter absent from the value") {
  std::string out = format_output("message", "line 1\nEOF\nline 3");
  auto first_newline = out.find('\n');
  REQUIRE(first_newline != std::string::npos);
  std::string header = out.substr(0, first_newline);
  REQUIRE(header.starts_with("message<<ghadelimiter_"));
  std::string delimiter = header.substr(std::string("message<<").size());
  CHECK(out == "message<<" + delimiter + "\nline 1\nEOF\nline 3\n" + delimiter + "\n");

  std::string empty = format_output("revision", "");
  std::string d = empty.substr(empty.find("<<") + 2, empty.find('\n') - empty.find("<<") - 2);
  CHECK(empty == "revision<<" + d + "\n\n" + d + "\n");
}

TEST_CASE("append_to_file appends, and names the variable when it cannot") {
  fluxkey::testing::TempDir dir;
  std::string path = dir.write("output", "before=1\n");
  append_to_file("GITHUB_OUTPUT", path, "after<<X\n2\nX\n");
  std::FILE* f = std::fopen(path.c_str(), "r");
  REQUIRE(f != nullptr);
  char buffer[256] = {};
  size_t n = std::fread(buffer, 1, sizeof buffer - 1, f);
  std::fclose(f);
  CHECK(std::string(buffer, n) == "before=1\nafter<<X\n2\nX\n");

  try {
    append_to_file("GITHUB_STEP_SUMMARY", dir.path() + "/missing/summary.md", "x");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(std::string(e.what()).find("$GITHUB_STEP_SUMMARY (" + dir.path() +
                                     "/missing/summary.md)") != std::string::npos);
  }
}

TEST_CASE("markdown cells escape pipes, line breaks and HTML") {
  CHECK(markdown_cell("a | b") == "a \\| b");
  CHECK(markdown_cell("one\ntwo\r\nthree\rfour") == "one<br>two<br>three<br>four");
  CHECK(markdown_cell("<script>&") == "&lt;script&gt;&amp;");
  CHECK(markdown_cell("main@sha1:abc") == "main@sha1:abc");
}

}  // namespace action_workflow_commands_test
