#include "rotation/lease.h"

#include <doctest/doctest.h>

#include <functional>
#include <mutex>
#include <regex>
#include <thread>

#include "support/captured_log.h"
#include "support/kube_fakes.h"

namespace rotation_lease_test {

using namespace fluxkey;
using namespace fluxkey::rotation;
using fluxkey::kube::Json;
using fluxkey::kube::testing::FakeState;
using fluxkey::kube::testing::FakeTransport;
using fluxkey::testing::CapturedLog;
using std::chrono::milliseconds;
using std::chrono::seconds;

namespace {

const NamespacedName kName{"fluxkey", "flux-kubeconfig"};
const std::string kPath = "/apis/coordination.k8s.io/v1/namespaces/fluxkey/leases/flux-kubeconfig";

struct Harness {
  std::shared_ptr<FakeState> state = std::make_shared<FakeState>();
  kube::Client client;

  Harness() : client(config(), std::make_unique<FakeTransport>(state)) {
    client.http().set_sleeper([](milliseconds) {});
  }
  static kube::RestConfig config() {
    kube::RestConfig c;
    c.server = "https://127.0.0.1:6443";
    c.token = "t";
    return c;
  }
  Json body(size_t i) const { return Json::parse(state->requests.at(i).body); }
};

// Short waits so that a test never sleeps long.
LeaseTiming fast() {
  LeaseTiming t;
  t.duration = seconds(1);
  t.wait_at_most = milliseconds(300);
  t.poll_first = milliseconds(1);
  t.poll_max = milliseconds(5);
  return t;
}

std::string lease(const std::string& holder, const std::string& renew, long transitions = 0,
                  const std::string& rv = "7") {
  return Json{{"apiVersion", "coordination.k8s.io/v1"},
              {"kind", "Lease"},
              {"metadata", {{"name", "flux-kubeconfig"}, {"resourceVersion", rv}}},
              {"spec",
               {{"holderIdentity", holder},
                {"leaseDurationSeconds", 30},
                {"renewTime", renew},
                {"leaseTransitions", transitions}}}}
      .dump();
}

const char* kNotFound =
    R"({"kind":"Status","status":"Failure","reason":"NotFound","code":404,"message":"not found"})";
const char* kConflict =
    R"({"kind":"Status","status":"Failure","reason":"Conflict","code":409,"message":"changed"})";

}  // namespace

TEST_CASE("lease: an absent Lease is created for this run and cleared when it ends") {
  Harness h;
  h.state->push(404, kNotFound);
  h.state->push(201, lease("me", "2026-11-28T00:00:00.000000Z", 0, "1"));
  h.state->push(200, lease("", "2026-11-28T00:00:01.000000Z", 0, "2"));
  {
    RunLease run(h.client, kName, nullptr, fast());
    Json created = h.body(1);
    CHECK(h.state->requests.at(1).method == "POST");
    CHECK(h.state->requests.at(1).url.ends_with("/namespaces/fluxkey/leases"));
    CHECK(created["spec"]["holderIdentity"] == run.identity());
    CHECK(created["spec"]["leaseDurationSeconds"] == 1);
    // MicroTime: exactly six fractional digits, as the API server parses it.
    CHECK(std::regex_match(created["spec"]["renewTime"].get<std::string>(),
                           std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)")));
    CHECK(created["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "fluxkey");
    run.release();
  }
  REQUIRE(h.state->requests.size() == 3);
  CHECK(h.state->requests.at(2).method == "PUT");
  Json released = h.body(2);
  CHECK(released["spec"]["holderIdentity"] == "");
  CHECK(released["spec"]["leaseDurationSeconds"] == 1);
  CHECK(released["metadata"]["resourceVersion"] == "1");
}

TEST_CASE("lease: a free Lease is taken with its resourceVersion and one more transition") {
  Harness h;
  h.state->push(200, lease("", "2026-11-28T00:00:00.000000Z", 4, "9"));
  h.state->push(200, lease("me", "2026-11-28T00:00:01.000000Z", 5, "10"));
  h.state->push(200, lease("", "2026-11-28T00:00:02.000000Z", 5, "11"));
  RunLease run(h.client, kName, nullptr, fast());
  Json taken = h.body(1);
  CHECK(h.state->requests.at(1).method == "PUT");
  CHECK(h.state->requests.at(1).url.ends_with(kPath));
  CHECK(taken["metadata"]["resourceVersion"] == "9");
  CHECK(taken["spec"]["leaseTransitions"] == 5);
}

TEST_CASE("lease: a held Lease is waited for until its holder clears it") {
  Harness h;
  h.state->push(200, lease("cronjob-pod_1", "2026-11-28T00:00:00.000000Z"));
  h.state->push(200, lease("cronjob-pod_1", "2026-11-28T00:00:00.000000Z"));
  h.state->push(200, lease("", "2026-11-28T00:00:03.000000Z", 1, "8"));
  h.state->push(200, lease("me", "2026-11-28T00:00:04.000000Z", 2, "9"));
  h.state->push(200, lease("", "2026-11-28T00:00:05.000000Z", 2, "10"));
  RunLease run(h.client, kName, nullptr, fast());
  CHECK(h.state->requests.at(3).method == "PUT");
  CHECK(h.body(3)["metadata"]["resourceVersion"] == "8");
}

TEST_CASE("lease: a lost race for the Lease reads it again") {
  Harness h;
  h.state->push(404, kNotFound);
  h.state->push(409, kConflict);  // another run created it first
  h.state->push(200, lease("", "2026-11-28T00:00:00.000000Z", 1, "3"));
  h.state->push(200, lease("me", "2026-11-28T00:00:01.000000Z", 2, "4"));
  h.state->push(200, lease("", "2026-11-28T00:00:01.000000Z", 2, "5"));
  RunLease run(h.client, kName, nullptr, fast());
  CHECK(h.state->requests.at(3).method == "PUT");
  CHECK(h.body(3)["metadata"]["resourceVersion"] == "3");
}

TEST_CASE("lease: a live holder is waited for, then named") {
  Harness h;
  h.state->fallback = FakeState::json(200, lease("laptop_ab12", "2026-11-28T00:00:00.000000Z"));
  // Its duration outlasts the wait: it is never judged gone.
  auto timing = fast();
  timing.duration = seconds(60);
  try {
    RunLease run(h.client, kName, nullptr, timing);
    FAIL("the Lease was taken from a live holder");
  } catch (const Error& e) {
    std::string message = e.what();
    CHECK(message.find("another fluxkey run (laptop_ab12) still holds Lease "
                       "fluxkey/flux-kubeconfig") != std::string::npos);
    CHECK(message.find("nothing was changed") != std::string::npos);
  }
  size_t writes = 0;
  for (const auto& r : h.state->requests) writes += r.method != "GET" ? 1 : 0;
  CHECK(writes == 0);
}

TEST_CASE("lease: a holder seen with the same renewTime for a whole duration is gone") {
  ExpiryWatch watch;
  LeaseRecord seen{"crashed_1", seconds(30), "2026-11-28T00:00:00.000000Z", 0, "5"};
  auto t0 = ExpiryWatch::Steady::time_point{} + seconds(1000);
  CHECK_FALSE(watch.expired(seen, t0));
  CHECK_FALSE(watch.expired(seen, t0 + seconds(29)));
  CHECK(watch.expired(seen, t0 + seconds(30)));
  // A renewal starts the count again.
  seen.renew_time = "2026-11-28T00:00:31.000000Z";
  CHECK_FALSE(watch.expired(seen, t0 + seconds(31)));
  CHECK_FALSE(watch.expired(seen, t0 + seconds(60)));
  CHECK(watch.expired(seen, t0 + seconds(61)));
}

TEST_CASE("lease: a refusal names the Lease and what it is for") {
  Harness h;
  h.state->push(403, R"({"kind":"Status","status":"Failure","reason":"Forbidden","code":403,
    "message":"leases.coordination.k8s.io \"flux-kubeconfig\" is forbidden"})");
  try {
    RunLease run(h.client, kName, nullptr, fast());
    FAIL("no error");
  } catch (const Error& e) {
    std::string message = e.what();
    CHECK(
        message.starts_with("cannot read Lease fluxkey/flux-kubeconfig, which keeps fluxkey "
                            "runs apart: "));
    CHECK(message.find("forbidden") != std::string::npos);
  }
}

TEST_CASE("lease: a release that finds the Lease taken over leaves it alone") {
  Harness h;
  h.state->push(404, kNotFound);
  h.state->push(201, lease("me", "2026-11-28T00:00:00.000000Z", 0, "1"));
  h.state->push(409, kConflict);
  h.state->push(200, lease("other_2", "2026-11-28T00:01:00.000000Z", 1, "6"));
  RunLease run(h.client, kName, nullptr, fast());
  CapturedLog log;
  CHECK_NOTHROW(run.release());
  CHECK(h.state->requests.size() == 4);
  // No check_held saw it: the run may have changed something meanwhile.
  CHECK(log.text().find("Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run "
                        "(other_2) before this run released it") != std::string::npos);
}

// The create lands but its reply is lost; the retry meets it as a Conflict.
class LostReplyTransport : public http::Transport {
 public:
  std::vector<http::Request> requests;
  http::Response send(const http::Request& request) override {
    requests.push_back(request);
    http::Response response;
    response.headers = {{"content-type", "application/json"}};
    if (request.method == "POST") {
      created_ = Json::parse(request.body);
      created_["metadata"]["resourceVersion"] = "5";
      response.status = 409;
      response.body = kConflict;
    } else if (request.method == "GET") {
      response.status = created_.is_null() ? 404 : 200;
      response.body = created_.is_null() ? kNotFound : created_.dump();
    } else {
      response.status = 200;
      response.body = request.body;
    }
    return response;
  }

 private:
  Json created_;
};

TEST_CASE("lease: a take whose reply was lost is found done on the next read") {
  auto owned = std::make_unique<LostReplyTransport>();
  LostReplyTransport* transport = owned.get();
  kube::Client client(Harness::config(), std::move(owned));
  {
    RunLease run(client, kName, nullptr, fast());
    run.release();
  }
  // GET, POST (lost), GET (ours already), PUT (the release): no second take.
  REQUIRE(transport->requests.size() == 4);
  CHECK(transport->requests[2].method == "GET");
  CHECK(transport->requests[3].method == "PUT");
  Json released = Json::parse(transport->requests[3].body);
  CHECK(released["spec"]["holderIdentity"] == "");
  CHECK(released["metadata"]["resourceVersion"] == "5");
}

namespace {

// An API server holding one Lease, shared by the run's client and its
// renewing thread's. A create or a PUT lands (the Lease as sent, with the
// next resourceVersion) unless `put` says otherwise; a GET answers what
// landed. The test reads it once the renewing thread has stopped.
struct LeaseServer {
  enum class Put { kLand, kUnavailable, kLandReplyLost, kTakenOver };
  Put put = Put::kLand;
  std::mutex mu;
  std::vector<Json> puts;  // as sent
  Json landed;

  void set(Put next) {
    std::lock_guard lock(mu);
    put = next;
  }

  // The renewals sent: the PUTs but the release, which clears the holder.
  std::vector<Json> renewals() {
    std::lock_guard lock(mu);
    std::vector<Json> out;
    for (const auto& p : puts) {
      if (p["spec"]["holderIdentity"] != "") out.push_back(p);
    }
    return out;
  }
};

class LeaseServerTransport : public http::Transport {
 public:
  explicit LeaseServerTransport(std::shared_ptr<LeaseServer> server) : server_(std::move(server)) {}

  http::Response send(const http::Request& request) override {
    std::lock_guard lock(server_->mu);
    http::Response response;
    response.headers = {{"content-type", "application/json"}};
    response.status = 200;
    Json& landed = server_->landed;
    if (request.method == "GET") {
      response.status = landed.is_null() ? 404 : 200;
      response.body = landed.is_null() ? kNotFound : landed.dump();
      return response;
    }
    Json sent = Json::parse(request.body);
    auto land = [&](int resource_version) {
      landed = sent;
      landed["metadata"]["resourceVersion"] = std::to_string(resource_version);
    };
    if (request.method == "POST") {
      land(1);
      response.status = 201;
      response.body = landed.dump();
      return response;
    }
    server_->puts.push_back(sent);
    const int next = std::stoi(sent["metadata"]["resourceVersion"].get<std::string>()) + 1;
    switch (server_->put) {
      case LeaseServer::Put::kLand:
        land(next);
        response.body = landed.dump();
        break;
      case LeaseServer::Put::kUnavailable:
        response.status = 503;
        response.body =
            R"({"kind":"Status","status":"Failure","reason":"ServiceUnavailable","code":503,)"
            R"("message":"etcd leader changed"})";
        break;
      case LeaseServer::Put::kLandReplyLost:
        land(next);
        response.status = 409;
        response.body = kConflict;
        break;
      case LeaseServer::Put::kTakenOver:
        landed = Json::parse(lease("other_9", "2026-11-28T00:00:40.000000Z", 1, "50"));
        response.status = 409;
        response.body = kConflict;
        break;
    }
    return response;
  }

 private:
  std::shared_ptr<LeaseServer> server_;
};

std::unique_ptr<kube::Client> client_of(const std::shared_ptr<LeaseServer>& server) {
  auto client = std::make_unique<kube::Client>(Harness::config(),
                                               std::make_unique<LeaseServerTransport>(server));
  client->http().set_sleeper([](milliseconds) {});
  return client;
}

// A run holding the Lease on its own LeaseServer, renewing every `every`.
struct Renewing {
  std::shared_ptr<LeaseServer> server = std::make_shared<LeaseServer>();
  std::unique_ptr<kube::Client> client = client_of(server);
  std::unique_ptr<RunLease> run;

  Renewing(LeaseServer::Put put, milliseconds every) {
    server->put = put;
    LeaseTiming timing = fast();
    timing.renew_every = every;
    run = std::make_unique<RunLease>(
        *client, kName, [s = server] { return client_of(s); }, timing);
  }
};

// Polls `done` every 5 ms for 5 s at most; the renewing thread runs on its own.
bool eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(milliseconds(5));
  }
  return done();
}

}  // namespace

TEST_CASE("lease: the holder renews from the Lease as last written, and releases that") {
  Renewing r(LeaseServer::Put::kLand, milliseconds(20));
  REQUIRE(eventually([&] { return r.server->renewals().size() >= 3; }));
  CHECK_NOTHROW(r.run->check_held("pushing"));
  r.run->release();

  auto renewals = r.server->renewals();
  REQUIRE(renewals.size() >= 3);
  std::string previous_time;
  for (size_t i = 0; i < renewals.size(); ++i) {
    CAPTURE(i);
    // Each renewal carries the resourceVersion the one before it got back.
    CHECK(renewals[i]["metadata"]["resourceVersion"] == std::to_string(i + 1));
    CHECK(renewals[i]["spec"]["holderIdentity"] == r.run->identity());
    const std::string renew_time = renewals[i]["spec"]["renewTime"].get<std::string>();
    CHECK(renew_time > previous_time);
    previous_time = renew_time;
  }
  // The release follows the last renewal.
  CHECK(r.server->puts.size() == renewals.size() + 1);
  CHECK(r.server->puts.back()["metadata"]["resourceVersion"] ==
        std::to_string(renewals.size() + 1));
  CHECK(r.server->landed["spec"]["holderIdentity"] == "");
}

TEST_CASE("lease: a renewal whose reply was lost is found landed, and the Lease still held") {
  Renewing r(LeaseServer::Put::kLandReplyLost, milliseconds(20));
  REQUIRE(eventually([&] { return r.server->renewals().size() >= 3; }));
  CHECK_NOTHROW(r.run->check_held("pushing"));
  r.server->set(LeaseServer::Put::kLand);
  r.run->release();
  auto renewals = r.server->renewals();
  REQUIRE(renewals.size() >= 3);
  for (size_t i = 0; i < renewals.size(); ++i) {
    CHECK(renewals[i]["metadata"]["resourceVersion"] == std::to_string(i + 1));
  }
}

TEST_CASE("lease: once another run holds it, check_held stops the run, naming that run") {
  Renewing r(LeaseServer::Put::kTakenOver, milliseconds(20));
  REQUIRE(eventually([&] { return !r.server->renewals().empty(); }));
  // The renewal's Conflict and the read after it: then the run knows.
  REQUIRE(eventually([&] {
    try {
      r.run->check_held("pushing");
      return false;
    } catch (const Error&) {
      return true;
    }
  }));
  CHECK_THROWS_WITH_AS(
      r.run->check_held("pushing to repository acme/app"),
      "Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run (other_9); "
      "stopped before pushing to repository acme/app",
      Error);
  // It stopped renewing once it knew; its release writes nothing, and says
  // nothing more.
  CapturedLog log;
  CHECK_NOTHROW(r.run->release());
  CHECK(r.server->puts.size() == 1);
  CHECK(r.server->landed["spec"]["holderIdentity"] == "other_9");
  CHECK(log.text().find("taken over") == std::string::npos);
}

TEST_CASE("lease: a takeover no check_held reported is a warning at release") {
  Renewing r(LeaseServer::Put::kTakenOver, milliseconds(20));
  REQUIRE(eventually([&] { return !r.server->renewals().empty(); }));
  CapturedLog log;
  CHECK_NOTHROW(r.run->release());
  CHECK(r.server->landed["spec"]["holderIdentity"] == "other_9");
  CHECK(log.text().find("Lease fluxkey/flux-kubeconfig was taken over by another fluxkey run "
                        "(other_9) before this run released it: its last change may have "
                        "overlapped that run") != std::string::npos);
}

TEST_CASE("lease: not renewed for two thirds of its duration, check_held stops the run") {
  // fast(): a duration of 1 s, so the deadline is at 667 ms.
  Renewing r(LeaseServer::Put::kUnavailable, milliseconds(200));
  CHECK_NOTHROW(r.run->check_held("pushing"));
  std::this_thread::sleep_for(milliseconds(700));
  try {
    r.run->check_held("deleting earlier generations");
    FAIL("no error past the renew deadline");
  } catch (const Error& e) {
    const std::string message = e.what();
    CHECK(message.starts_with("Lease fluxkey/flux-kubeconfig not renewed for "));
    CHECK(message.find("etcd leader changed") != std::string::npos);
    CHECK(message.ends_with(
        ", so another fluxkey run may take it over; stopped before deleting earlier generations"));
  }
  r.server->set(LeaseServer::Put::kLand);
  r.run->release();
  // Every renewal was tried 5 times; after a failure the next came sooner
  // than every 200 ms (which allows 3 renewals in 700 ms).
  CHECK(r.server->renewals().size() >= 5 * 4);
}

TEST_CASE("parse_lease: fields of another type read as empty, not thrown (fuzz)") {
  LeaseRecord record = parse_lease(
      Json::parse(R"({"metadata": {"resourceVersion": 5821}, "spec": {"holderIdentity": 7}})"));
  CHECK(record.resource_version.empty());
  CHECK(record.holder.empty());
  CHECK(parse_lease(Json::parse(R"({"metadata": {"resourceVersion": "9"}})")).resource_version ==
        "9");
  CHECK(parse_lease(Json::parse("[1]")).holder.empty());
}

}  // namespace rotation_lease_test
