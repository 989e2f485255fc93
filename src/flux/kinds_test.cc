#include "flux/kinds.h"

#include <doctest/doctest.h>

#include <set>

namespace flux_kinds_test {

using namespace fluxkey::flux;

TEST_CASE("every kind of INTERFACE.md is in the table, by each name flux accepts") {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"kustomization", "Kustomization"},
      {"ks", "Kustomization"},
      {"Kustomizations", "Kustomization"},
      {"helmrelease", "HelmRelease"},
      {"hr", "HelmRelease"},
      {"gitrepository", "GitRepository"},
      {"ocirepository", "OCIRepository"},
      {"helmrepository", "HelmRepository"},
      {"helmchart", "HelmChart"},
      {"bucket", "Bucket"},
      {"imagerepository", "ImageRepository"},
      {"imageupdateautomation", "ImageUpdateAutomation"},
      {"receiver", "Receiver"},
      {"RECEIVERS", "Receiver"},
  };
  for (const auto& entry : names) {
    const auto& [name, kind] = entry;
    CAPTURE(entry.first);  // clang 14 cannot capture a structured binding
    const KindInfo* k = find_kind(name);
    REQUIRE(k != nullptr);
    CHECK(k->kind == kind);
  }
  CHECK(find_kind("alert") == nullptr);
  CHECK(find_kind("") == nullptr);
  CHECK(kinds().size() == 10);
}

TEST_CASE("groups and versions: the current API first, then the one before it") {
  auto versions = [](const std::string& name) { return find_kind(name)->versions; };
  CHECK(find_kind("ks")->group == "kustomize.toolkit.fluxcd.io");
  CHECK(versions("ks") == std::vector<std::string>{"v1", "v1beta2"});
  CHECK(find_kind("hr")->group == "helm.toolkit.fluxcd.io");
  CHECK(versions("hr").front() == "v2");
  CHECK(versions("hr")[1] == "v2beta2");
  for (const char* source :
       {"gitrepository", "ocirepository", "helmrepository", "helmchart", "bucket"}) {
    CHECK(find_kind(source)->group == "source.toolkit.fluxcd.io");
    CHECK(versions(source) == std::vector<std::string>{"v1", "v1beta2"});
  }
  CHECK(find_kind("imagerepository")->group == "image.toolkit.fluxcd.io");
  CHECK(versions("imageupdateautomation") == std::vector<std::string>{"v1", "v1beta2"});
  CHECK(find_kind("receiver")->group == "notification.toolkit.fluxcd.io");
  CHECK(versions("receiver").front() == "v1");
}

TEST_CASE("plurals and flux CLI subcommands are unique") {
  std::set<std::string> plurals, commands;
  for (const auto& k : kinds()) {
    CHECK(plurals.insert(k.plural).second);
    std::string command;
    for (const auto& part : k.flux_cli) command += part + " ";
    CHECK(commands.insert(command).second);
  }
  CHECK(find_kind("gitrepository")->flux_cli == std::vector<std::string>{"source", "git"});
  CHECK(find_kind("imageupdateautomation")->flux_cli ==
        std::vector<std::string>{"image", "update"});
}

TEST_CASE("known_kinds lists every kind with the short names flux users type") {
  std::string list = known_kinds();
  CHECK(list.find("kustomization (ks)") == 0);
  CHECK(list.find("helmrelease (hr)") != std::string::npos);
  CHECK(list.find("receiver") != std::string::npos);
  CHECK(kinds_with_source() == "kustomization, helmrelease and helmchart");
}

TEST_CASE("revision and success message per kind, as flux prints them") {
  Json ks = {{"status", {{"lastAppliedRevision", "main@sha1:abc"}}}};
  CHECK(revision_of(*find_kind("ks"), ks) == "main@sha1:abc");
  CHECK(success_message(*find_kind("ks"), ks) == "applied revision main@sha1:abc");

  Json git = {{"status", {{"artifact", {{"revision", "main@sha1:def"}}}}}};
  CHECK(success_message(*find_kind("gitrepository"), git) == "fetched revision main@sha1:def");

  Json hr = {{"status",
              {{"history", {{{"chartVersion", "6.5.4"}}, {{"chartVersion", "6.5.3"}}}},
               {"lastAttemptedRevision", "9.9.9"}}}};
  CHECK(revision_of(*find_kind("hr"), hr) == "6.5.4");
  CHECK(revision_of(*find_kind("hr"), Json{{"status", {{"lastAttemptedRevision", "1.2.3"}}}}) ==
        "1.2.3");
  // helm v2beta1 only knew lastAppliedRevision.
  CHECK(revision_of(*find_kind("hr"), Json{{"status", {{"lastAppliedRevision", "0.1.0"}}}}) ==
        "0.1.0");

  Json image = {{"status", {{"lastScanResult", {{"tagCount", 3}}}}}};
  CHECK(success_message(*find_kind("imagerepository"), image) == "scan fetched 3 tags");
  CHECK(revision_of(*find_kind("imagerepository"), image).empty());

  Json update = {
      {"status",
       {{"lastPushCommit", "abc123"},
        {"conditions",
         {{{"type", "Ready"}, {"status", "True"}, {"message", "repository up-to-date"}}}}}}};
  CHECK(success_message(*find_kind("imageupdateautomation"), update) == "repository up-to-date");
  CHECK(revision_of(*find_kind("imageupdateautomation"), update) == "abc123");

  CHECK(success_message(*find_kind("receiver"), Json::object()) ==
        "Receiver reconciliation completed");
}

TEST_CASE("an OCI HelmRepository is static: no controller reconciles it") {
  const KindInfo& repo = *find_kind("helmrepository");
  CHECK(is_static(repo, Json{{"spec", {{"type", "oci"}}}}));
  CHECK_FALSE(is_static(repo, Json{{"spec", {{"type", "default"}}}}));
  CHECK_FALSE(is_static(*find_kind("ocirepository"), Json{{"spec", {{"type", "oci"}}}}));
}

}  // namespace flux_kinds_test
