// The one place fluxkey makes GitHub API calls: Actions secrets of
// repositories, environments and organizations, authenticated by a token or
// as a GitHub App, paced to stay inside GitHub's documented limits.
//
// Network I/O goes through http::Client (retries on 5xx and resets; PUTs of
// a whole secret are idempotent). This layer adds what is GitHub's own:
// credentials per owner, public keys cached with ETag, a write budget, and
// waiting out rate limits instead of hammering.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/secret.h"
#include "core/time.h"
#include "github/target.h"
#include "http/http.h"

namespace fluxkey::github {

// Exactly one of a token or an App (id + private key) is set; the caller
// validated that.
struct Credentials {
  Credentials() = default;
  // A copy clones the secrets (a SecretString never copies itself), so each
  // copy wipes its own when it goes.
  Credentials(const Credentials& other) { *this = other; }
  Credentials& operator=(const Credentials& other) {
    if (this != &other) {
      token = other.token.clone();
      app_id = other.app_id;
      app_private_key_pem = other.app_private_key_pem.clone();
      installation_id = other.installation_id;
    }
    return *this;
  }
  Credentials(Credentials&&) = default;
  Credentials& operator=(Credentials&&) = default;

  SecretString token;                      // GITHUB_TOKEN or --github-token-file
  std::string app_id;                      // App id or client id ("Iv1.abc")
  SecretString app_private_key_pem;        // PEM
  std::optional<int64_t> installation_id;  // discovered per owner when absent
};

// GitHub's secondary limits: about 80 content-creating requests a minute and
// 500 an hour. fluxkey never sends more than this budget allows.
struct Pacing {
  int writes_per_minute = 80;
  int writes_per_hour = 500;
  // Longest fluxkey waits out one rate-limit refusal (retry-after or
  // x-ratelimit-reset) before it reports the target as failed.
  std::chrono::milliseconds max_wait{std::chrono::minutes(15)};
  // Multiplies the budget's windows and the rate-limit backoff used when
  // GitHub names no wait. 1 in production; benchmarks and tests set
  // FLUXKEY_PACING_TIME_SCALE to match a stand-in's compressed minute.
  double time_scale = 1.0;
};

struct ClientOptions {
  std::string api_url = "https://api.github.com";  // GHES: https://HOST/api/v3
  Credentials credentials;
  Pacing pacing;
  // How long one attempt of a request may take (--request-timeout); 0: the
  // transport's default.
  std::chrono::milliseconds request_timeout{0};
};

struct PublicKey {
  std::string key_id;
  std::string key;  // base64, 32 bytes
};

enum class PutOutcome { kCreated, kUpdated };

// A refusal from GitHub, one line: what failed, GitHub's message, and the
// fix when fluxkey knows it ("the token needs the repo scope"). status() is
// the HTTP status, 0 when GitHub never answered.
class GitHubError : public Error {
 public:
  GitHubError(int status, const std::string& message) : Error(message), status_(status) {}
  int status() const { return status_; }

 private:
  int status_;
};

class Client {
 public:
  // Production: a curl transport trusting the system roots or SSL_CERT_FILE.
  explicit Client(ClientOptions options);
  // Tests: any transport.
  Client(ClientOptions options, std::unique_ptr<http::Transport> transport);
  ~Client();

  // Tests drive time: `now` for JWTs, token expiry and the write budget;
  // `sleep` for every wait (budget, rate limits, retries).
  void set_clock(std::function<Clock::time_point()> now);
  void set_sleeper(std::function<void(std::chrono::milliseconds)> sleep);

  // GET the target's public key, cached for the client's lifetime. Proves
  // the target exists and the credential may read its secrets.
  PublicKey public_key(const Target& target);

  // Reads the public keys of many targets over several connections at once
  // and caches them, so that public_key() finds them. Only worth it, and
  // only done, for eight targets or more with the production transport;
  // failures are left for public_key() to meet and report.
  void prefetch_public_keys(const std::vector<Target>& targets);

  // Resolves repository names of `org` to ids (GET /repos/ORG/NAME), cached.
  std::vector<int64_t> repository_ids(const std::string& org,
                                      const std::vector<std::string>& names);

  // Seals `value` with the target's public key (cached, or fetched) and PUTs
  // it as secret `name`. A 422 for a stale key refetches the key (with
  // If-None-Match) once and tries again. For organizations `access` sets the
  // visibility and, for "selected", the repository ids, so an update never
  // empties the list. Throws GitHubError.
  PutOutcome put_secret(const Target& target, const std::string& name, std::string_view value,
                        const OrgAccess& access = {});

  // Requests sent so far (attempts included), for the run's summary.
  int requests_sent() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace fluxkey::github
