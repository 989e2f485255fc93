// GitHub Actions workflow commands (::add-mask::, ::group::, ::error::, ...)
// and the environment files ($GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY) that a
// step writes to talk to the runner.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fluxkey::action {

// The runner unescapes %25, %0D and %0A in a command's data; anything else
// is taken as is, so a value holding a line break cannot end the command.
std::string escape_data(std::string_view value);
// Properties (title=...) are split on ',' and ':' too, so those are escaped as well.
std::string escape_property(std::string_view value);

using Properties = std::vector<std::pair<std::string, std::string>>;

// "::name k=v,k=v::data" (without the newline).
std::string format_command(std::string_view name, const Properties& properties,
                           std::string_view data);

// Writes workflow commands, one a line, flushed at once so that they keep
// their order relative to everything else the step prints.
class WorkflowCommands {
 public:
  explicit WorkflowCommands(std::FILE* out) : out_(out) {}

  void add_mask(std::string_view secret);
  void group(std::string_view title);
  void end_group();
  void error(std::string_view message, std::string_view title = "");
  void warning(std::string_view message, std::string_view title = "");
  // ::stop-commands::TOKEN makes the runner print what follows verbatim until
  // ::TOKEN:: (resume_commands), so text from the cluster cannot smuggle a
  // workflow command in. The token is random; returns it.
  std::string stop_commands();
  void resume_commands(const std::string& token);
  void line(std::string_view text);

 private:
  void write(const std::string& line);
  std::FILE* out_;
};

// A delimiter for the heredoc syntax of environment files: random, as the
// runner's own toolkit makes them, and absent from name and value.
std::string make_delimiter(std::string_view name, std::string_view value);

// `name<<DELIM\nvalue\nDELIM\n`: safe for any value, line breaks included.
std::string format_output(std::string_view name, std::string_view value);

// Appends to the file named by an environment file variable. Throws Error
// naming the variable and the path when it cannot be written.
void append_to_file(const std::string& variable, const std::string& path,
                    const std::string& content);

// A value inside a Markdown table cell of the job summary: | escaped, line
// breaks as <br>, and HTML's specials as entities so that a message from the
// cluster renders as text.
std::string markdown_cell(std::string_view value);

}  // namespace fluxkey::action
