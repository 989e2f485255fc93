#include "flux/reconcile.h"

#include <doctest/doctest.h>

#include "core/log.h"
#include "support/flux_fake_cluster.h"

namespace flux_reconcile_test {

using namespace fluxkey;
using namespace fluxkey::flux;
using namespace fluxkey::flux::testing;
using std::chrono::milliseconds;

namespace {

const char* const kKsPath =
    "/apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations/apps";
const char* const kGitPath =
    "/apis/source.toolkit.fluxcd.io/v1/namespaces/flux-system/gitrepositories/fleet";

Json object(const std::string& ns, const std::string& name, Json spec = Json::object()) {
  return {{"metadata", {{"namespace", ns}, {"name", name}}}, {"spec", spec}};
}

// A fleet: the Kustomization apps built from the GitRepository fleet.
void seed(FakeCluster& cluster) {
  cluster.add("kustomize.toolkit.fluxcd.io/v1", "kustomizations",
              object("flux-system", "apps",
                     {{"sourceRef", {{"kind", "GitRepository"}, {"name", "fleet"}}}}));
  cluster.add("source.toolkit.fluxcd.io/v1", "gitrepositories", object("flux-system", "fleet"));
}

ReconcileOptions options(const std::string& kind = "ks", const std::string& name = "apps") {
  ReconcileOptions o;
  o.kind = kind;
  o.name = name;
  o.timeout = milliseconds(2'000);
  return o;
}

template <typename F>
const ReconcileError* reconcile_error(F&& f, std::unique_ptr<ReconcileError>& holder) {
  try {
    f();
  } catch (const ReconcileError& e) {
    holder = std::make_unique<ReconcileError>(e);
  }
  return holder.get();
}

}  // namespace

TEST_CASE("reconcile: get, annotate with requestedAt, watch the one object until Ready") {
  FakeClient fake;
  seed(*fake.cluster);
  ReconcileResult result = reconcile(options(), fake.client);
  CHECK(result.ready);
  CHECK(result.revision.rfind("main@sha1:", 0) == 0);
  CHECK(result.message.rfind("Applied revision", 0) == 0);
  REQUIRE(result.objects.size() == 1);
  CHECK(result.objects[0].kind == "Kustomization");

  const auto& log = fake.cluster->log;
  REQUIRE(log.size() == 3);
  CHECK(log[0] == std::string("GET ") + kKsPath);
  CHECK(log[1] == std::string("PATCH ") + kKsPath);
  CHECK(log[2] ==
        "WATCH /apis/kustomize.toolkit.fluxcd.io/v1/namespaces/flux-system/kustomizations");
  const Json& annotations = fake.cluster->patches.at(0)["metadata"]["annotations"];
  REQUIRE(annotations.size() == 1);
  std::string at = annotations["reconcile.fluxcd.io/requestedAt"];
  CHECK(at.size() > 20);
  CHECK(at.back() == 'Z');
}

TEST_CASE("--with-source reconciles and waits for the source before annotating the object") {
  FakeClient fake;
  seed(*fake.cluster);
  ReconcileOptions o = options();
  o.with_source = true;
  ReconcileResult result = reconcile(o, fake.client);
  REQUIRE(result.objects.size() == 2);
  CHECK(result.objects[0].kind == "GitRepository");
  CHECK(result.objects[0].ready);
  CHECK(result.objects[1].kind == "Kustomization");
  std::vector<std::string> methods;
  for (const auto& line : fake.cluster->log) methods.push_back(line.substr(0, line.find(' ')));
  // The object is read first (suspended?), then the source runs to the end.
  CHECK(fake.cluster->log[0] == std::string("GET ") + kKsPath);
  CHECK(fake.cluster->log[1] == std::string("GET ") + kGitPath);
  CHECK(fake.cluster->log[2] == std::string("PATCH ") + kGitPath);
  CHECK(methods[3] == "WATCH");
  CHECK(fake.cluster->log[4] == std::string("PATCH ") + kKsPath);
}

TEST_CASE("a Conflict on the annotation is retried, with a fresh value") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->conflicts = 2;
  CHECK(reconcile(options(), fake.client).ready);
  CHECK(fake.cluster->patches.size() == 3);
}

TEST_CASE("Conflicts without end give up, bounded") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->conflicts = 100;
  CHECK_THROWS_WITH_AS(reconcile(options(), fake.client),
                       doctest::Contains("cannot annotate Kustomization flux-system/apps"),
                       kube::ApiError);
  CHECK(fake.cluster->patches.size() == 5);
}

TEST_CASE("Stalled fails at once with exit 1 and its message") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->answers[kKsPath] = Answer::kStall;
  std::unique_ptr<ReconcileError> holder;
  auto start = std::chrono::steady_clock::now();
  const ReconcileError* e = reconcile_error([&] { reconcile(options(), fake.client); }, holder);
  REQUIRE(e != nullptr);
  CHECK(std::chrono::steady_clock::now() - start < milliseconds(1'000));
  CHECK(e->code() == ExitCode::kFailed);
  CHECK(std::string(e->what()).find("stalled for good") != std::string::npos);
  CHECK_FALSE(e->result().ready);
  CHECK(e->result().objects.size() == 1);
}

TEST_CASE("Ready False until the timeout: exit 4 with the last Ready message") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->answers[kKsPath] = Answer::kFail;
  ReconcileOptions o = options();
  o.timeout = milliseconds(300);
  std::unique_ptr<ReconcileError> holder;
  const ReconcileError* e = reconcile_error([&] { reconcile(o, fake.client); }, holder);
  REQUIRE(e != nullptr);
  CHECK(e->code() == ExitCode::kTimeout);
  CHECK(std::string(e->what()).find(
            "not ready within 300ms: kustomize build failed (BuildFailed)") != std::string::npos);
  CHECK(e->result().message == "kustomize build failed");
}

TEST_CASE("a request never handled: exit 4 naming the controller") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->answers[kKsPath] = Answer::kNever;
  ReconcileOptions o = options();
  o.timeout = milliseconds(200);
  std::unique_ptr<ReconcileError> holder;
  const ReconcileError* e = reconcile_error([&] { reconcile(o, fake.client); }, holder);
  REQUIRE(e != nullptr);
  CHECK(e->code() == ExitCode::kTimeout);
  CHECK(std::string(e->what()).find("kustomize-controller did not handle") != std::string::npos);
}

TEST_CASE("a forbidden watch falls back to polling") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->forbid_watch = true;
  ReconcileOptions o = options();
  o.with_source = true;
  ReconcileResult result = reconcile(o, fake.client);
  CHECK(result.ready);
  // One refused watch, then GETs only (for the object too).
  size_t watches = 0;
  for (const auto& line : fake.cluster->log) watches += line.rfind("WATCH", 0) == 0 ? 1 : 0;
  CHECK(watches == 1);
  CHECK(fake.cluster->log.back() == std::string("GET ") + kKsPath);
}

TEST_CASE("a watch cut mid-stream is resumed") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->cut_watches = 1;  // resumed after a 250 ms pause
  CHECK(reconcile(options(), fake.client).ready);
  size_t watches = 0;
  for (const auto& line : fake.cluster->log) watches += line.rfind("WATCH", 0) == 0 ? 1 : 0;
  CHECK(watches == 2);
  CHECK(fake.cluster->log.back().rfind("WATCH", 0) == 0);  // no polling
}

TEST_CASE("a watch failing with 5xx after the client's retries is polled instead") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->failing_watches = 100;
  CHECK(reconcile(options(), fake.client).ready);
  CHECK(fake.cluster->log.back() == std::string("GET ") + kKsPath);
}

TEST_CASE("suspended objects are refused before any change") {
  FakeClient fake;
  fake.cluster->add("kustomize.toolkit.fluxcd.io/v1", "kustomizations",
                    object("flux-system", "apps", {{"suspend", true}}));
  CHECK_THROWS_WITH_AS(reconcile(options(), fake.client),
                       doctest::Contains("Kustomization flux-system/apps is suspended"), Error);
  CHECK(fake.cluster->patches.empty());
}

TEST_CASE("HelmRelease --force and --reset send forceAt and resetAt equal to requestedAt") {
  FakeClient fake;
  fake.cluster->add("helm.toolkit.fluxcd.io/v2", "helmreleases", object("flux-system", "podinfo"));
  ReconcileOptions o = options("hr", "podinfo");
  o.force = true;
  o.reset = true;
  CHECK(reconcile(o, fake.client).ready);
  const Json& a = fake.cluster->patches.at(0)["metadata"]["annotations"];
  CHECK(a["reconcile.fluxcd.io/forceAt"] == a["reconcile.fluxcd.io/requestedAt"]);
  CHECK(a["reconcile.fluxcd.io/resetAt"] == a["reconcile.fluxcd.io/requestedAt"]);
}

TEST_CASE("usage errors before any request: unknown kind, --force on another kind") {
  FakeClient fake;
  CHECK_THROWS_WITH_AS(reconcile(options("alert"), fake.client),
                       doctest::Contains("known kinds: kustomization (ks)"), UsageError);
  ReconcileOptions o = options();
  o.reset = true;
  CHECK_THROWS_WITH_AS(reconcile(o, fake.client),
                       doctest::Contains("--reset applies to helmrelease"), UsageError);
  CHECK(fake.cluster->log.empty());
}

TEST_CASE("--no-wait annotates and returns") {
  FakeClient fake;
  seed(*fake.cluster);
  fake.cluster->answers[kKsPath] = Answer::kNever;
  ReconcileOptions o = options();
  o.wait = false;
  ReconcileResult result = reconcile(o, fake.client);
  CHECK_FALSE(result.ready);
  CHECK(result.revision.empty());
  CHECK(fake.cluster->log.size() == 2);
}

TEST_CASE("an OCI HelmRepository is left alone, as flux does") {
  FakeClient fake;
  fake.cluster->add("source.toolkit.fluxcd.io/v1", "helmrepositories",
                    object("flux-system", "charts", {{"type", "oci"}}));
  ReconcileResult result = reconcile(options("helmrepository", "charts"), fake.client);
  CHECK(result.ready);
  CHECK(fake.cluster->patches.empty());
}

}  // namespace flux_reconcile_test
