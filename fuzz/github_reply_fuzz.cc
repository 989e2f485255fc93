// What GitHub answers, read by fluxkey: github::Client (public keys,
// secret PUTs with the stale-key retry, the GraphQL lookup of repository
// ids, App installation lookups and installation tokens, rate-limit
// refusals waited out on a simulated clock) and the error readers of
// github/errors.h.
//
// The first line names the operation; the rest is the script of replies
// (fuzz_support.h).
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "fuzz_support.h"
#include "github/client.h"
#include "github/errors.h"

namespace {

using fluxkey::fuzz::check_message;
using fluxkey::fuzz::expect_errors_only;
using fluxkey::fuzz::require;
using fluxkey::github::Target;

constexpr const char* kToken = "fuzz-github-token-never-shown";
constexpr const char* kApi = "https://api.github.com";

// An RSA key for the App operations, made once per run (1024 bits: signing
// a JWT on every request must stay cheap; GitHub's own keys are 2048).
std::string app_key_pem() {
  static const std::string pem = [] {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(1024), EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!key || !bio ||
        PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) !=
            1) {
      fluxkey::fuzz::fail("cannot make the App's RSA key");
    }
    char* text = nullptr;
    long length = BIO_get_mem_data(bio.get(), &text);
    return std::string(text, static_cast<size_t>(length));
  }();
  return pem;
}

struct Op {
  const char* name;
  bool app;
  bool installation_id;
  Target target;
  const char* visibility;
};

const Op kOps[] = {
    {"public-key-repo", false, false, Target::repository("acme", "app"), "private"},
    {"public-key-env", false, false, Target::environment_of("acme", "app", "prod/eu"), "private"},
    {"public-key-org", false, false, Target::organization("acme"), "private"},
    {"put-repo", false, false, Target::repository("acme", "app"), "private"},
    {"put-env", false, false, Target::environment_of("acme", "app", "prod/eu"), "private"},
    {"put-org", false, false, Target::organization("acme"), "all"},
    {"put-org-selected", false, false, Target::organization("acme"), "selected"},
    {"app-put-repo", true, false, Target::repository("acme", "app"), "private"},
    {"app-put-org-selected", true, false, Target::organization("acme"), "selected"},
    {"app-put-installation", true, true, Target::environment_of("acme", "app", "prod"), "private"},
};

// The readers of github/errors.h on each reply of the script: the refusal
// for one kind of target and credential a reply, in turn, so that a long
// script stays cheap.
void read_errors(std::string_view script) {
  fluxkey::fuzz::ScriptedTransport transport(script);
  const fluxkey::Clock::time_point now{std::chrono::seconds(1795824000)};
  constexpr fluxkey::github::Scope kScopes[] = {fluxkey::github::Scope::kRepository,
                                                fluxkey::github::Scope::kEnvironment,
                                                fluxkey::github::Scope::kOrganization};
  for (int i = 0; i < 16; ++i) {
    fluxkey::http::Response response;
    try {
      response = transport.send(fluxkey::http::Request{});
    } catch (const fluxkey::http::NetworkError& e) {
      if (e.permanent()) return;
      continue;
    }
    std::string said = fluxkey::github::github_message(response);
    require(said.find_first_of("\r\n") == std::string::npos, "GitHub's message spans lines");
    const bool app = i % 2 == 1;
    fluxkey::github::needed_permission(response, app);
    auto error = fluxkey::github::refusal({"repository acme/app", kScopes[i % 3], app}, response);
    check_message(error.what(), "refusal");
    expect_errors_only("rate_limit_hit", [&] {
      if (auto hit = fluxkey::github::rate_limit_hit(response, now)) {
        require(!hit->kind.empty(), "a rate limit of no kind");
        require(!hit->wait || *hit->wait >= std::chrono::milliseconds(0), "negative wait");
      }
    });
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  app_key_pem();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  // Lambdas cannot capture structured bindings in C++20.
  const auto parts = fluxkey::fuzz::split_first_line(input);
  const std::string& name = parts.first;
  const std::string_view script = parts.second;
  if (name == "errors") {
    read_errors(script);
    return 0;
  }
  const Op* op =
      std::find_if(std::begin(kOps), std::end(kOps), [&](const Op& o) { return name == o.name; });
  if (op == std::end(kOps)) return -1;

  fluxkey::github::ClientOptions options;
  options.api_url = kApi;
  if (op->app) {
    options.credentials.app_id = "12345";
    options.credentials.app_private_key_pem = app_key_pem();
    if (op->installation_id) options.credentials.installation_id = 777;
  } else {
    options.credentials.token = kToken;
  }
  auto transport = std::make_unique<fluxkey::fuzz::ScriptedTransport>(script);
  fluxkey::fuzz::ScriptedTransport& script_log = *transport;
  fluxkey::github::Client client(std::move(options), std::move(transport));
  // Waits pass on a simulated clock.
  auto now = std::make_shared<fluxkey::Clock::time_point>(std::chrono::seconds(1795824000));
  client.set_clock([now] { return *now; });
  client.set_sleeper([now](std::chrono::milliseconds d) { *now += d; });

  std::string message = expect_errors_only(name.c_str(), [&] {
    if (std::string(op->name).rfind("public-key", 0) == 0) {
      auto key = client.public_key(op->target);
      require(!key.key_id.empty() && !key.key.empty(), "an empty public key was accepted");
      return;
    }
    fluxkey::github::OrgAccess access;
    access.visibility = op->visibility;
    if (access.visibility == "selected") access.selected_repos = {"app", "api", "app"};
    client.put_secret(op->target, "FLUX_KUBECONFIG", "apiVersion: v1\nkind: Config\n", access);
  });
  // Unless the replies themselves carry it (then it is the server's words).
  require(message.find(kToken) == std::string::npos || input.find(kToken) != std::string::npos,
          "a message quotes the token");
  for (const auto& request : script_log.requests()) {
    require(request.find(std::string(" ") + kApi + "/") != std::string::npos,
            "a request left the API: " + request);
  }
  return 0;
}
