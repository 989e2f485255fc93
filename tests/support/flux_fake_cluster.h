// For the flux unit tests only: a tiny in-memory API server for Flux
// objects behind an http::Transport, with a controller that answers each
// reconcile request at once the way a test tells it to.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "http/http.h"
#include "kube/client.h"

namespace fluxkey::flux::testing {

using Json = nlohmann::json;

enum class Answer { kSucceed, kFail, kStall, kNever };

struct FakeCluster {
  // "/apis/GROUP/VERSION" -> plurals served there.
  std::map<std::string, std::vector<std::string>> served;
  // Object path -> its states, oldest first (the last is current).
  std::map<std::string, std::vector<Json>> objects;
  std::map<std::string, Answer> answers;  // object path -> how the controller answers
  bool forbid_watch = false;
  int cut_watches = 0;      // watches cut off (a network error) before any event
  int failing_watches = 0;  // watches answered 503
  int conflicts = 0;        // PATCHes answered 409 before one succeeds
  long long rv = 100;
  std::vector<std::string> log;  // "GET path", "PATCH path", "WATCH path"
  std::vector<Json> patches;     // PATCH bodies, in order

  static std::string status(int code, const std::string& reason, const std::string& message) {
    return Json{{"kind", "Status"},
                {"status", "Failure"},
                {"code", code},
                {"reason", reason},
                {"message", message}}
        .dump();
  }

  // Adds an object at /apis/GROUP/VERSION/namespaces/NS/PLURAL/NAME and
  // marks the collection served.
  std::string add(const std::string& group_version, const std::string& plural, Json object) {
    std::string ns = object["metadata"]["namespace"];
    std::string name = object["metadata"]["name"];
    std::string path = "/apis/" + group_version + "/namespaces/" + ns + "/" + plural + "/" + name;
    object["metadata"]["resourceVersion"] = std::to_string(++rv);
    if (!object["metadata"].contains("generation")) object["metadata"]["generation"] = 1;
    objects[path].push_back(object);
    serve(group_version, plural);
    return path;
  }
  void serve(const std::string& group_version, const std::string& plural) {
    auto& list = served["/apis/" + group_version];
    if (std::find(list.begin(), list.end(), plural) == list.end()) list.push_back(plural);
  }

  http::Response reply(long code, const std::string& body) {
    http::Response r;
    r.status = code;
    r.body = body;
    r.headers = {{"content-type", "application/json"}};
    return r;
  }

  // What the controller writes once it has handled request `at`.
  Json answered(Json object, Answer answer, const std::string& at) {
    Json& status = object["status"];
    if (!status.is_object()) status = Json::object();
    status["lastHandledReconcileAt"] = at;
    long long generation = object["metadata"]["generation"];
    auto condition = [](const std::string& type, const std::string& value,
                        const std::string& reason, const std::string& message) {
      return Json{{"type", type}, {"status", value}, {"reason", reason}, {"message", message}};
    };
    switch (answer) {
      case Answer::kSucceed:
        status["observedGeneration"] = generation;
        status["lastAppliedRevision"] = "main@sha1:" + std::to_string(rv);
        status["artifact"] = {{"revision", "main@sha1:" + std::to_string(rv)}};
        // Json::array: a braced list of one json is a copy of it for clang
        // and an array for g++ (nlohmann/json's documented pitfall).
        status["conditions"] =
            Json::array({condition("Ready", "True", "ReconciliationSucceeded",
                                   "Applied revision: main@sha1:" + std::to_string(rv))});
        break;
      case Answer::kFail:
        status["conditions"] = {
            condition("Ready", "False", "BuildFailed", "kustomize build failed"),
            condition("Reconciling", "True", "ProgressingWithRetry", "retry")};
        break;
      case Answer::kStall:
        status["observedGeneration"] = generation;
        status["conditions"] = {
            condition("Ready", "False", "BuildFailed", "kustomize build failed"),
            condition("Stalled", "True", "BuildFailed", "stalled for good")};
        break;
      case Answer::kNever:
        break;
    }
    return object;
  }

  http::Response handle(const http::Request& request, const std::string& server) {
    std::string url = request.url.substr(server.size());
    std::string path = url.substr(0, url.find('?'));
    std::string query = url.find('?') == std::string::npos ? "" : url.substr(url.find('?') + 1);
    if (request.method == "GET" && query.find("watch=true") != std::string::npos) {
      log.push_back("WATCH " + path);
      if (forbid_watch) {
        return reply(403, status(403, "Forbidden", "cannot watch resource in API group"));
      }
      std::string name = query.substr(query.find("metadata.name%3D") + 16);
      name = name.substr(0, name.find('&'));
      long long since = 0;
      if (auto at = query.find("resourceVersion="); at != std::string::npos) {
        since = std::stoll(query.substr(at + 16));
      }
      if (failing_watches > 0) {
        --failing_watches;
        return reply(503, status(503, "ServiceUnavailable", "watch cache not ready"));
      }
      if (cut_watches > 0) {
        --cut_watches;
        throw http::NetworkError("connection to 127.0.0.1:6443 broke",
                                 http::NetworkError::Kind::kTransfer, true);
      }
      http::Response r = reply(200, "");
      auto it = objects.find(path + "/" + name);
      if (it != objects.end() && request.on_body) {
        for (const auto& state : it->second) {
          if (std::stoll(state["metadata"]["resourceVersion"].get<std::string>()) <= since) {
            continue;
          }
          request.on_body(Json{{"type", "MODIFIED"}, {"object", state}}.dump() + "\n");
        }
      }
      return r;
    }
    if (request.method == "GET") {
      log.push_back("GET " + path);
      if (auto it = served.find(path); it != served.end()) {
        Json resources = Json::array();
        for (const auto& plural : it->second) resources.push_back({{"name", plural}});
        return reply(200, Json{{"kind", "APIResourceList"}, {"resources", resources}}.dump());
      }
      if (auto it = objects.find(path); it != objects.end()) {
        return reply(200, it->second.back().dump());
      }
      return reply(404, not_found(path));
    }
    if (request.method == "PATCH") {
      log.push_back("PATCH " + path);
      patches.push_back(Json::parse(request.body));
      auto it = objects.find(path);
      if (it == objects.end()) return reply(404, not_found(path));
      if (conflicts > 0) {
        --conflicts;
        return reply(409, status(409, "Conflict", "the object has been modified"));
      }
      Json object = it->second.back();
      object.merge_patch(patches.back());
      object["metadata"]["resourceVersion"] = std::to_string(++rv);
      it->second.push_back(object);
      std::string at = object["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"];
      Answer answer = answers.count(path) ? answers[path] : Answer::kSucceed;
      if (answer != Answer::kNever) {
        Json done = answered(object, answer, at);
        done["metadata"]["resourceVersion"] = std::to_string(++rv);
        it->second.push_back(done);
      }
      return reply(200, object.dump());
    }
    return reply(405, status(405, "MethodNotAllowed", "no"));
  }

  // A missing object in a served collection names it; anything else is the
  // API server's "could not find the requested resource".
  std::string not_found(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string collection = path.substr(0, slash);
    std::string group_version = collection.substr(0, collection.find("/namespaces/"));
    std::string plural = collection.substr(collection.rfind('/') + 1);
    auto it = served.find(group_version);
    if (it != served.end() &&
        std::find(it->second.begin(), it->second.end(), plural) != it->second.end()) {
      return status(404, "NotFound", plural + " \"" + path.substr(slash + 1) + "\" not found");
    }
    return status(404, "NotFound", "the server could not find the requested resource");
  }
};

class FakeClusterTransport : public http::Transport {
 public:
  FakeClusterTransport(std::shared_ptr<FakeCluster> cluster, std::string server)
      : cluster_(std::move(cluster)), server_(std::move(server)) {}
  http::Response send(const http::Request& request) override {
    return cluster_->handle(request, server_);
  }

 private:
  std::shared_ptr<FakeCluster> cluster_;
  std::string server_;
};

// A kube::Client over a FakeCluster; retries do not sleep.
struct FakeClient {
  std::shared_ptr<FakeCluster> cluster = std::make_shared<FakeCluster>();
  kube::Client client;

  FakeClient() : client(config(), std::make_unique<FakeClusterTransport>(cluster, kServer)) {
    client.http().set_sleeper([](std::chrono::milliseconds) {});
  }

  static constexpr const char* kServer = "https://127.0.0.1:6443";
  static kube::RestConfig config() {
    kube::RestConfig c;
    c.server = kServer;
    c.token = "unit-test-token";
    c.origin = "kubeconfig /x, context y";
    return c;
  }
};

}  // namespace fluxkey::flux::testing
