#include "rotation/lease.h"

#include <doctest/doctest.h>

#include <regex>

#include "kube/test_support.h"

namespace rotation_lease_test {

using namespace fluxkey;
using namespace fluxkey::rotation;
using fluxkey::kube::Json;
using fluxkey::kube::testing::FakeState;
using fluxkey::kube::testing::FakeTransport;
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
  CHECK_NOTHROW(run.release());
  CHECK(h.state->requests.size() == 4);
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
