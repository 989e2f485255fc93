// Helpers for the kube unit tests only: environment variables restored on
// exit, and a scripted http::Transport (temporary folders: support/temp_dir.h).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "http/http.h"
#include "support/temp_dir.h"

namespace fluxkey::kube::testing {

// A CA certificate as a kubeconfig carries it; nothing here parses it.
inline const std::string kCa = "-----BEGIN CERTIFICATE-----\nMIIBCA==\n-----END CERTIFICATE-----\n";

// Sets (or, with nullopt, unsets) environment variables and restores the
// previous values when it goes out of scope.
class EnvGuard {
 public:
  EnvGuard() = default;
  ~EnvGuard() {
    for (auto it = saved_.rbegin(); it != saved_.rend(); ++it) {
      if (it->second) {
        ::setenv(it->first.c_str(), it->second->c_str(), 1);
      } else {
        ::unsetenv(it->first.c_str());
      }
    }
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

  void set(const std::string& name, const std::optional<std::string>& value) {
    const char* old = std::getenv(name.c_str());
    saved_.emplace_back(name, old ? std::optional<std::string>(old) : std::nullopt);
    if (value) {
      ::setenv(name.c_str(), value->c_str(), 1);
    } else {
      ::unsetenv(name.c_str());
    }
  }

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

// One scripted reply: a response (2xx bodies may be streamed in chunks to
// on_body), or a network failure.
struct FakeReply {
  long status = 200;
  std::string body;
  std::vector<std::string> chunks;  // for on_body; when empty, `body` is one chunk
  http::Headers headers;
  std::optional<http::NetworkError> error;
};

struct FakeState {
  std::deque<FakeReply> replies;
  // When the script has run out: this reply, again and again (watches that
  // are re-established), or a test failure when unset.
  std::optional<FakeReply> fallback;
  std::vector<http::Request> requests;  // as sent, without on_body

  static FakeReply json(long status, const std::string& body) {
    FakeReply reply;
    reply.status = status;
    reply.body = body;
    reply.headers = {{"content-type", "application/json"}};
    return reply;
  }
  void push(long status, const std::string& body) { replies.push_back(json(status, body)); }
  void push_error(const http::NetworkError& error) {
    FakeReply reply;
    reply.error = error;
    replies.push_back(reply);
  }

  // The Authorization header of request i, or "" when there is none.
  std::string authorization(size_t i) const { return header(i, "Authorization"); }
  std::string header(size_t i, const std::string& name) const {
    for (const auto& [key, value] : requests.at(i).headers) {
      if (key == name) return value;
    }
    return "";
  }
};

class FakeTransport : public http::Transport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeState> state) : state_(std::move(state)) {}

  http::Response send(const http::Request& request) override {
    http::Request recorded = request;
    recorded.on_body = nullptr;
    state_->requests.push_back(recorded);
    FakeReply reply;
    if (!state_->replies.empty()) {
      reply = state_->replies.front();
      state_->replies.pop_front();
    } else if (state_->fallback) {
      reply = *state_->fallback;
    } else {
      throw std::runtime_error("FakeTransport: no reply scripted for " + request.method + " " +
                               request.url);
    }
    if (reply.error) throw *reply.error;
    http::Response response;
    response.status = reply.status;
    response.headers = reply.headers;
    bool success = reply.status >= 200 && reply.status < 300;
    if (request.on_body && success) {
      std::vector<std::string> chunks = reply.chunks;
      if (chunks.empty() && !reply.body.empty()) chunks.push_back(reply.body);
      for (const auto& chunk : chunks) {
        if (!request.on_body(chunk)) break;  // aborted: still a response
      }
    } else {
      response.body = reply.body;
    }
    return response;
  }

 private:
  std::shared_ptr<FakeState> state_;
};

}  // namespace fluxkey::kube::testing
