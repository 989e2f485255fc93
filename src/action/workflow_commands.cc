#include "action/workflow_commands.h"

#include <openssl/rand.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "core/error.h"

namespace fluxkey::action {
namespace {

std::string random_hex(size_t bytes) {
  std::vector<unsigned char> buffer(bytes);
  if (RAND_bytes(buffer.data(), static_cast<int>(buffer.size())) != 1) {
    throw Error("cannot draw random bytes from OpenSSL for a workflow command delimiter");
  }
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (unsigned char b : buffer) {
    out += digits[b >> 4];
    out += digits[b & 0xf];
  }
  return out;
}

std::string escape(std::string_view value, bool property) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    switch (c) {
      case '%':
        out += "%25";
        break;
      case '\r':
        out += "%0D";
        break;
      case '\n':
        out += "%0A";
        break;
      case ':':
        out += property ? "%3A" : ":";
        break;
      case ',':
        out += property ? "%2C" : ",";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace

std::string escape_data(std::string_view value) {
  return escape(value, false);
}

std::string escape_property(std::string_view value) {
  return escape(value, true);
}

std::string format_command(std::string_view name, const Properties& properties,
                           std::string_view data) {
  std::string out = "::";
  out += name;
  bool first = true;
  for (const auto& [key, value] : properties) {
    if (value.empty()) continue;
    out += first ? " " : ",";
    first = false;
    out += key + "=" + escape_property(value);
  }
  out += "::";
  out += escape_data(data);
  return out;
}

void WorkflowCommands::write(const std::string& line) {
  std::string text = line + "\n";
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

void WorkflowCommands::add_mask(std::string_view secret) {
  if (!secret.empty()) write(format_command("add-mask", {}, secret));
}

void WorkflowCommands::group(std::string_view title) {
  write(format_command("group", {}, title));
}

void WorkflowCommands::end_group() {
  write("::endgroup::");
}

void WorkflowCommands::error(std::string_view message, std::string_view title) {
  write(format_command("error", {{"title", std::string(title)}}, message));
}

void WorkflowCommands::warning(std::string_view message, std::string_view title) {
  write(format_command("warning", {{"title", std::string(title)}}, message));
}

std::string WorkflowCommands::stop_commands() {
  std::string token = "fluxkey-" + random_hex(16);
  write("::stop-commands::" + token);
  return token;
}

void WorkflowCommands::resume_commands(const std::string& token) {
  write("::" + token + "::");
}

void WorkflowCommands::line(std::string_view text) {
  // One line: a line break in text from the cluster would start a new line
  // the runner reads as a command.
  std::string flat(text);
  for (char& c : flat) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  write(flat);
}

std::string make_delimiter(std::string_view name, std::string_view value) {
  // A collision with 128 random bits is not going to happen; the loop makes
  // it impossible rather than unlikely, and stays bounded.
  for (int attempt = 0; attempt < 8; ++attempt) {
    std::string delimiter = "ghadelimiter_" + random_hex(16);
    if (name.find(delimiter) == std::string_view::npos &&
        value.find(delimiter) == std::string_view::npos) {
      return delimiter;
    }
  }
  throw Error("cannot find a delimiter absent from output " + std::string(name));
}

std::string format_output(std::string_view name, std::string_view value) {
  std::string delimiter = make_delimiter(name, value);
  std::string out(name);
  out += "<<" + delimiter + "\n";
  out += value;
  out += "\n" + delimiter + "\n";
  return out;
}

void append_to_file(const std::string& variable, const std::string& path,
                    const std::string& content) {
  std::ofstream file(path, std::ios::app | std::ios::binary);
  if (file) file << content;
  if (file) file.flush();
  if (!file) {
    throw Error("cannot append to $" + variable + " (" + path + "): " + std::strerror(errno));
  }
}

std::string markdown_cell(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    char c = value[i];
    switch (c) {
      case '|':
        out += "\\|";
        break;
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '\r':
        // \r\n is one break; a lone \r is one too.
        if (i + 1 < value.size() && value[i + 1] == '\n') break;
        out += "<br>";
        break;
      case '\n':
        out += "<br>";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace fluxkey::action
