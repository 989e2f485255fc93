// For the github unit tests only: a small in-memory GitHub behind an
// http::Transport. It holds real sealing key pairs (so tests can open what
// the Client sealed), accepts one personal token and the installation tokens
// it issued, and records every request with the fake time it arrived at.
// `hook` lets a test answer any request itself (rate limits, faults).
#pragma once

#include "support/captured_log.h"

#include <sodium.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/base64.h"
#include "core/log.h"
#include "core/time.h"
#include "crypto/sealed_box.h"
#include "http/http.h"

namespace fluxkey::github::testing {

using Json = nlohmann::json;

inline http::Response json_reply(long status, const Json& body, http::Headers headers = {}) {
  http::Response r;
  r.status = status;
  r.headers = std::move(headers);
  r.headers.emplace_back("content-type", "application/json; charset=utf-8");
  r.body = body.dump();
  return r;
}

inline http::Response github_error(long status, const std::string& message,
                                   http::Headers headers = {}) {
  return json_reply(status,
                    {{"message", message},
                     {"documentation_url", "https://docs.github.com/rest"},
                     {"status", std::to_string(status)}},
                    std::move(headers));
}

struct Seen {
  http::Request request;
  Clock::time_point at;
  std::string path;  // without the API root
};

class FakeGitHub {
 public:
  explicit FakeGitHub(std::string api = "https://api.github.test") : api_(std::move(api)) {
    ensure_sodium();
  }

  // --- setup
  std::string personal_token = "ghp_personal_token_0123456789";
  std::function<Clock::time_point()> clock = [] { return Clock::now(); };
  // Answers a request before the routes do, when it returns a response.
  std::function<std::optional<http::Response>(const http::Request&, const std::string& path)> hook;
  std::map<std::string, int64_t> installations;  // account -> installation id
  std::map<std::string, int64_t> repo_ids;       // "owner/name" -> id

  // --- what happened
  std::vector<Seen> seen;
  struct Stored {
    std::string plaintext;
    Json body;  // as PUT, with encrypted_value
  };
  std::map<std::string, Stored> secrets;  // by secret path

  const std::string& api() const { return api_; }

  // A new key pair for a secrets collection path; the old key_id is then
  // refused with GitHub's 422.
  void rotate_key(const std::string& secrets_path) {
    Key& key = keys_[secrets_path];
    key.version += 1;
    key.id = "key-" + std::to_string(key.version) + "-" + std::to_string(keys_.size());
    key.pk.resize(crypto_box_PUBLICKEYBYTES);
    key.sk.resize(crypto_box_SECRETKEYBYTES);
    crypto_box_keypair(reinterpret_cast<unsigned char*>(key.pk.data()),
                       reinterpret_cast<unsigned char*>(key.sk.data()));
  }

  size_t count(const std::string& method, const std::string& path) const {
    size_t n = 0;
    for (const auto& s : seen) n += s.request.method == method && s.path == path ? 1 : 0;
    return n;
  }
  size_t count_suffix(const std::string& method, const std::string& suffix) const {
    size_t n = 0;
    for (const auto& s : seen) {
      n += s.request.method == method && s.path.size() >= suffix.size() &&
                   s.path.compare(s.path.size() - suffix.size(), suffix.size(), suffix) == 0
               ? 1
               : 0;
    }
    return n;
  }
  static std::string header(const http::Request& request, const std::string& name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) return value;
    }
    return "";
  }

  http::Response handle(const http::Request& request) {
    std::string path = request.url.rfind(api_, 0) == 0 ? request.url.substr(api_.size()) : "?";
    seen.push_back(Seen{request, clock(), path});
    if (hook) {
      if (auto reply = hook(request, path)) return *reply;
    }
    return route(request, path);
  }

 private:
  struct Key {
    int version = 0;
    std::string id, pk, sk;
  };

  static std::vector<std::string> segments(const std::string& path) {
    std::vector<std::string> out;
    size_t start = 1;
    while (start <= path.size()) {
      size_t end = path.find('/', start);
      if (end == std::string::npos) end = path.size();
      out.push_back(path.substr(start, end - start));
      start = end + 1;
    }
    return out;
  }

  static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  }

  http::Response route(const http::Request& request, const std::string& path) {
    std::string auth = header(request, "Authorization");
    if (auth.rfind("Bearer ", 0) != 0) return github_error(401, "Requires authentication");
    std::string credential = auth.substr(7);
    bool jwt = std::count(credential.begin(), credential.end(), '.') == 2;
    auto seg = segments(path);

    // App endpoints: a JWT only.
    bool app_endpoint = (seg.size() == 4 && seg[0] == "repos" && seg[3] == "installation") ||
                        (seg.size() == 3 && seg[0] == "orgs" && seg[2] == "installation") ||
                        (seg.size() == 4 && seg[0] == "app" && seg[3] == "access_tokens");
    if (app_endpoint) {
      if (!jwt) return github_error(401, "A JSON web token could not be decoded");
      if (seg[0] == "app") {
        if (request.method != "POST") return github_error(404, "Not Found");
        std::string token = "ghs_installation_" + seg[2] + "_" + std::to_string(++issued_);
        issued_tokens_.push_back(token);
        return json_reply(201, {{"token", token},
                                {"expires_at", format_rfc3339(clock() + std::chrono::hours(1))}});
      }
      auto it = installations.find(seg[1]);
      if (it == installations.end()) return github_error(404, "Not Found");
      return json_reply(200, {{"id", it->second}, {"account", {{"login", seg[1]}}}});
    }
    if (jwt) return github_error(403, "Resource not accessible by integration");
    bool known =
        credential == personal_token ||
        std::find(issued_tokens_.begin(), issued_tokens_.end(), credential) != issued_tokens_.end();
    if (!known) return github_error(401, "Bad credentials");

    if (request.method == "POST" && path == "/graphql") {
      // Aliased repository(owner:, name:) fields, as the Client asks them.
      Json data = Json::object();
      std::string query = Json::parse(request.body, nullptr, false).value("query", "");
      for (size_t at = query.find(": repository("); at != std::string::npos;
           at = query.find(": repository(", at + 1)) {
        size_t alias_start = query.rfind(' ', at - 1) + 1;
        std::string alias = query.substr(alias_start, at - alias_start);
        auto quoted = [&](size_t from) {
          size_t open = query.find('"', from);
          return query.substr(open + 1, query.find('"', open + 1) - open - 1);
        };
        std::string owner = quoted(at);
        std::string name = quoted(query.find("name:", at));
        auto it = repo_ids.find(owner + "/" + name);
        data[alias] = it == repo_ids.end() ? Json(nullptr) : Json{{"databaseId", it->second}};
      }
      return json_reply(200, {{"data", data}});
    }
    if (request.method == "GET" && seg.size() == 3 && seg[0] == "repos") {
      auto it = repo_ids.find(seg[1] + "/" + seg[2]);
      if (it == repo_ids.end()) return github_error(404, "Not Found");
      return json_reply(200, {{"id", it->second}, {"full_name", it->first}});
    }
    if (ends_with(path, "/secrets/public-key") && request.method == "GET") {
      std::string collection = path.substr(0, path.size() - std::string("/public-key").size());
      auto it = keys_.find(collection);
      if (it == keys_.end()) return github_error(404, "Not Found");
      std::string etag = "W/\"etag-" + it->second.id + "\"";
      if (header(request, "If-None-Match") == etag) {
        http::Response r;
        r.status = 304;
        r.headers = {{"etag", etag}};
        return r;
      }
      return json_reply(200, {{"key_id", it->second.id}, {"key", base64_encode(it->second.pk)}},
                        {{"etag", etag}});
    }
    size_t at = path.rfind("/secrets/");
    if (request.method == "PUT" && at != std::string::npos) {
      std::string collection = path.substr(0, at + std::string("/secrets").size());
      auto it = keys_.find(collection);
      if (it == keys_.end()) return github_error(404, "Not Found");
      Json body = Json::parse(request.body, nullptr, false);
      if (!body.is_object() || !body.contains("key_id")) {
        return github_error(422, "Invalid request.\n\n\"key_id\" wasn't supplied.");
      }
      const char* improper =
          "Bad request - validation failed due to an improperly encrypted secret";
      if (body["key_id"] != it->second.id) return github_error(422, improper);
      auto sealed = base64_decode(body.value("encrypted_value", ""));
      if (!sealed || sealed->size() < crypto_box_SEALBYTES) return github_error(422, improper);
      std::string plain(sealed->size() - crypto_box_SEALBYTES, '\0');
      if (crypto_box_seal_open(reinterpret_cast<unsigned char*>(plain.data()),
                               reinterpret_cast<const unsigned char*>(sealed->data()),
                               sealed->size(),
                               reinterpret_cast<const unsigned char*>(it->second.pk.data()),
                               reinterpret_cast<const unsigned char*>(it->second.sk.data())) != 0) {
        return github_error(422, improper);
      }
      bool existed = secrets.count(path) > 0;
      secrets[path] = Stored{plain, body};
      if (existed) {
        http::Response r;
        r.status = 204;
        return r;
      }
      return json_reply(201, Json::object());
    }
    return github_error(404, "Not Found");
  }

  std::string api_;
  std::map<std::string, Key> keys_;
  std::vector<std::string> issued_tokens_;
  int issued_ = 0;
};

using CapturedStderr = fluxkey::testing::CapturedLog;

class FakeTransport : public http::Transport {
 public:
  explicit FakeTransport(std::shared_ptr<FakeGitHub> github) : github_(std::move(github)) {}
  http::Response send(const http::Request& request) override { return github_->handle(request); }

 private:
  std::shared_ptr<FakeGitHub> github_;
};

}  // namespace fluxkey::github::testing
