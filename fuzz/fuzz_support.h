// What the fuzz targets share: the invariant every failure must keep (a
// fluxkey Error with a one-line message, nothing else escaping), a private
// temporary folder, a scripted HTTP transport fed from the input, and the
// wrap that confines the product's file reads to that folder.
#pragma once

#include <signal.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>
#include <string_view>
#include <typeinfo>
#include <vector>

#include "core/error.h"
#include "core/file.h"
#include "http/http.h"
#include "support/temp_dir.h"

// Undefined behaviour stops the run like a crash (UBSan reports and goes on
// by default), whoever starts the target. Defined here, not inline: each
// target is one file, and the runtime looks for a definition at link time.
extern "C" const char* __ubsan_default_options() {
  return "halt_on_error=1:print_stacktrace=1";
}

namespace fluxkey::fuzz {

// The folder whose files the product may read during a run; empty: none.
inline std::string& readable_folder() {
  static std::string folder;
  return folder;
}

}  // namespace fluxkey::fuzz

// Every file the product reads goes through fluxkey::read_file, and the
// targets link with --wrap for it (meson.build): a read outside
// readable_folder() fails as a missing file would, before anything is opened.
// So no input makes a run read a file of the machine's (or hang on a FIFO).
#define FLUXKEY_READ_FILE \
  "_ZN7fluxkey9read_fileERKNSt7__cxx1112basic_stringIcSt11char_traitsIcESaIcEEES7_"
std::string real_read_file(const std::string& path,
                           const std::string& what) __asm__("__real_" FLUXKEY_READ_FILE);
std::string sandboxed_read_file(const std::string& path,
                                const std::string& what) __asm__("__wrap_" FLUXKEY_READ_FILE);
std::string sandboxed_read_file(const std::string& path, const std::string& what) {
  const std::string& folder = fluxkey::fuzz::readable_folder();
  if (folder.empty() || path.rfind(folder + "/", 0) != 0 || path.find("..") != std::string::npos) {
    throw fluxkey::UsageError("cannot read " + what + " " + path +
                              ": No such file or directory (outside the fuzz folder)");
  }
  return real_read_file(path, what);
}

namespace fluxkey::fuzz {

// Stops the run with a message libFuzzer shows above its crash report.
[[noreturn]] inline void fail(const std::string& what) {
  std::fprintf(stderr, "\nfuzz invariant violated: %s\n", what.c_str());
  std::fflush(stderr);
  std::abort();
}

inline void require(bool ok, const std::string& what) {
  if (!ok) fail(what);
}

// Proves at start-up, in every target, that the wrap above took: were
// fluxkey::read_file's mangled name to change, the link would still succeed
// and reads would silently reach the machine's files.
inline const bool kReadsConfined = [] {
  try {
    fluxkey::read_file("/proc/self/stat", "the confinement check");
  } catch (const UsageError& e) {
    if (std::string_view(e.what()).find("outside the fuzz folder") != std::string_view::npos) {
      return true;
    }
  }
  fail("fluxkey::read_file is not wrapped (see fuzz/meson.build): file reads are not confined");
}();

// The house rule for errors: one line, meant for a person, never empty.
inline void check_message(const std::string& message, const char* where) {
  require(!message.empty(), std::string(where) + ": empty error message");
  require(message.find_first_of("\r\n") == std::string::npos,
          std::string(where) + ": error message spans lines: " + message);
}

// Runs `body`; a fluxkey Error is an expected outcome (its message is
// checked and returned), any other exception is a bug.
template <typename F>
std::string expect_errors_only(const char* where, F&& body) {
  try {
    body();
  } catch (const Error& e) {
    check_message(e.what(), where);
    return e.what();
  } catch (const std::exception& e) {
    fail(std::string(where) + ": " + typeid(e).name() + " escaped: " + e.what());
  } catch (...) {
    fail(std::string(where) + ": a non-std exception escaped");
  }
  return "";
}

// A private folder for the whole run, removed at exit: in /dev/shm when
// there is one, since some targets write a file for every input. libFuzzer
// leaves with _Exit on Ctrl-C, a crash or a timeout, which skips the
// removal; so the folder's name carries the process id, and each run first
// removes the folders of runs no longer alive (two may go side by side).
inline const testing::TempDir& private_folder() {
  static const testing::TempDir dir = [] {
    const std::string parent = ::access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    const std::string_view prefix = "fluxkey-fuzz-";
    std::error_code ignored;
    for (const auto& entry : std::filesystem::directory_iterator(parent, ignored)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      long pid = 0;
      const char* first = name.data() + prefix.size();
      const auto [end, error] = std::from_chars(first, name.data() + name.size(), pid);
      if (error != std::errc() || end == first || *end != '-') continue;
      if (::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH) {
        std::filesystem::remove_all(entry.path(), ignored);
      }
    }
    return testing::TempDir(parent, std::string(prefix) + std::to_string(::getpid()) + "-");
  }();
  return dir;
}

// The first line of `data` (the operation a target performs) and the rest.
inline std::pair<std::string, std::string_view> split_first_line(std::string_view data) {
  size_t nl = data.find('\n');
  if (nl == std::string_view::npos) return {std::string(data), {}};
  return {std::string(data.substr(0, nl)), data.substr(nl + 1)};
}

// Replies to send, in order, as the input spells them:
//
//   -- 200                      a reply: status line,
//   etag: "abc"                 header lines up to the first empty line,
//                               then the body up to the next "\n-- " line
//   {"key_id": "1", ...}
//   -- reset                    no reply: the connection fails (any word)
//
// A request after the last reply fails permanently, so nothing waits.
class ScriptedTransport : public http::Transport {
 public:
  struct Reply {
    bool network_error = false;
    http::Response response;
    size_t chunk = 0;  // x-fuzz-chunk: streaming bodies arrive in pieces this big
  };

  explicit ScriptedTransport(std::string_view script) {
    const std::string_view marker = "-- ";
    size_t pos = script.rfind(marker, 0) == 0 ? 0 : script.find("\n-- ");
    while (pos != std::string_view::npos) {
      if (script[pos] == '\n') ++pos;
      size_t next = script.find("\n-- ", pos + marker.size());
      std::string_view chunk = script.substr(
          pos + marker.size(), next == std::string_view::npos ? next : next - pos - 3);
      replies_.push_back(parse_reply(chunk));
      pos = next;
    }
  }

  http::Response send(const http::Request& request) override {
    requests_.push_back(request.method + " " + request.url);
    if (next_ >= replies_.size()) {
      throw http::NetworkError("cannot connect to 127.0.0.1:1: the script has no more replies",
                               http::NetworkError::Kind::kConnect, false, true);
    }
    const Reply& reply = replies_[next_++];
    if (reply.network_error) {
      throw http::NetworkError("connection reset by the script",
                               http::NetworkError::Kind::kTransfer, true);
    }
    http::Response response = reply.response;
    if (request.on_body && response.status >= 200 && response.status < 300) {
      // A stream: handed over in pieces, as libcurl would, and not kept.
      const std::string stream = response.body + stream_tail_;
      std::string_view body = stream;
      size_t step = reply.chunk == 0 ? std::max<size_t>(body.size(), 1) : reply.chunk;
      for (size_t at = 0; at < body.size(); at += step) {
        if (!request.on_body(body.substr(at, step))) break;
      }
      response.body.clear();
    }
    return response;
  }

  const std::vector<std::string>& requests() const { return requests_; }

  // Appended to every streamed body, so that a test can end a watch
  // cleanly instead of waiting for it to be restarted.
  void set_stream_tail(std::string tail) { stream_tail_ = std::move(tail); }

 private:
  static Reply parse_reply(std::string_view text) {
    Reply reply;
    size_t nl = text.find('\n');
    std::string_view status = text.substr(0, nl);
    std::string_view rest = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    long code = 0;
    auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), code);
    if (ec != std::errc() || code < 100 || code > 599) {
      reply.network_error = true;
      return reply;
    }
    reply.response.status = code;
    // Header lines up to the first empty one; the body after it.
    while (!rest.empty()) {
      size_t eol = rest.find('\n');
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
      if (line.empty()) {
        reply.response.body = std::string(rest);
        break;
      }
      size_t colon = line.find(':');
      std::string name(line.substr(0, colon));
      std::string value;
      if (colon != std::string_view::npos) {
        value = std::string(line.substr(colon + 1));
        size_t first = value.find_first_not_of(' ');
        value = first == std::string::npos ? "" : value.substr(first);
      }
      for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (name == "x-fuzz-chunk") {
        size_t n = 0;
        std::from_chars(value.data(), value.data() + value.size(), n);
        reply.chunk = n;
      } else {
        reply.response.headers.emplace_back(name, value);
      }
    }
    return reply;
  }

  std::vector<Reply> replies_;
  size_t next_ = 0;
  std::vector<std::string> requests_;
  std::string stream_tail_;
};

// The input as yaml-cpp reads it; a null node when it does not parse (then
// it holds no secret).
inline YAML::Node load_yaml(const std::string& text) {
  try {
    return YAML::Load(text);
  } catch (const YAML::Exception&) {
    return YAML::Node();
  }
}

// Keys whose values are credentials in a kubeconfig.
inline bool is_secret_key(const std::string& key) {
  return key == "token" || key == "client-key-data" || key == "password";
}

// The credential values of a kubeconfig long enough to recognise in a message.
inline void collect_secrets(const YAML::Node& node, std::vector<std::string>& out) {
  if (node.IsMap()) {
    for (const auto& entry : node) {
      if (entry.first.IsScalar() && is_secret_key(entry.first.Scalar()) &&
          entry.second.IsScalar() && entry.second.Scalar().size() >= 8) {
        out.push_back(entry.second.Scalar());
      } else {
        collect_secrets(entry.second, out);
      }
    }
  } else if (node.IsSequence()) {
    for (const auto& item : node) collect_secrets(item, out);
  }
}

// The credentials in a kubeconfig's text, parsed only when it may hold one
// (keys hidden behind YAML escapes go unchecked: this is a check, not a guard).
inline std::vector<std::string> secrets_of(const std::string& yaml) {
  std::vector<std::string> out;
  if (yaml.find("token") != std::string::npos ||
      yaml.find("client-key-data") != std::string::npos ||
      yaml.find("password") != std::string::npos) {
    collect_secrets(load_yaml(yaml), out);
  }
  return out;
}

// `secret` with its letters and digits changed (a -> b, 0 -> 1, ...).
inline std::string altered(const std::string& secret) {
  std::string out = secret;
  for (char& c : out) {
    if ((c >= 'a' && c <= 'y') || (c >= 'A' && c <= 'Y') || (c >= '0' && c <= '8')) ++c;
  }
  return out;
}

// Fails when `message` (what `run` said about `input`) quotes one of the
// credentials in `yaml` (the input, or what it decodes to). A credential
// can also be a word the message says anyway (the fuzzer learns the
// messages' words from this very check), so a suspect is confirmed by
// changing its letters in the input and running again: a leak follows.
inline size_t occurrences(const std::string& text, const std::string& part) {
  size_t n = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++n;
  return n;
}

template <typename Run>
void check_no_secret_leak(const std::string& input, const std::string& yaml,
                          const std::string& message, Run&& run) {
  if (message.empty()) return;
  const std::vector<std::string> secrets = secrets_of(yaml);
  for (const std::string& secret : secrets) {
    if (message.find(secret) == std::string::npos) continue;
    // Inconclusive when the same text is also something else in the
    // kubeconfig (a context named like the token): changing it changes both.
    if (occurrences(yaml, secret) >
        static_cast<size_t>(std::count(secrets.begin(), secrets.end(), secret))) {
      continue;
    }
    const std::string changed = altered(secret);
    // Inconclusive when the input holds the changed text already (the
    // fuzzer learns it from this very comparison).
    if (changed == secret || input.find(secret) == std::string::npos ||
        input.find(changed) != std::string::npos) {
      continue;
    }
    std::string again = input;
    for (size_t at = again.find(secret); at != std::string::npos;
         at = again.find(secret, at + changed.size())) {
      again.replace(at, secret.size(), changed);
    }
    if (run(again).find(changed) != std::string::npos) {
      fail("an error message quotes a credential: " + message);
    }
  }
}

}  // namespace fluxkey::fuzz
