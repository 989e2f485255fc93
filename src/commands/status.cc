#include "commands/status.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/log.h"
#include "core/time.h"
#include "rotation/state.h"

namespace fluxkey::commands {
namespace {

using Json = nlohmann::json;

struct TargetRow {
  std::string id;
  long generation = 0;
  std::string pushed_at;  // RFC 3339 or ""
  std::string state;      // current, behind, failing, never pushed
  std::string error;
};

std::string pad(const std::string& s, size_t width) {
  return s.size() >= width ? s + "  " : s + std::string(width - s.size() + 2, ' ');
}

std::string time_or_dash(const std::optional<Clock::time_point>& t) {
  return t ? format_rfc3339(*t) : "-";
}

}  // namespace

ExitCode run_status(const StatusOptions& options, kube::Client& kube, std::FILE* out) {
  rotation::Store store(kube, options.k8s_secret, options.service_account);
  rotation::StoredKubeconfig stored = store.read();
  if (!stored.exists) {
    throw Error("Secret " + options.k8s_secret.str() +
                " does not exist: fluxkey has not synced yet; run fluxkey sync (or pass "
                "--k8s-secret NS/NAME)");
  }
  auto generations = store.generations();
  const auto now = Clock::now();

  bool alive = std::any_of(generations.begin(), generations.end(),
                           [&](const auto& g) { return g.generation == stored.generation; });
  std::string health;  // empty: healthy
  if (stored.revoked_at) {
    health = "revoked at " + format_rfc3339(*stored.revoked_at);
  } else if (!alive) {
    health = "revoked: the generation Secret of generation " + std::to_string(stored.generation) +
             " is gone";
  } else if (!stored.expires_at) {
    health = "no expiry recorded";
  } else if (*stored.expires_at <= now) {
    health = "expired at " + format_rfc3339(*stored.expires_at);
  } else if (*stored.expires_at - now <= options.warn_before) {
    health =
        "expires in " +
        format_duration(
            std::chrono::duration_cast<std::chrono::milliseconds>(*stored.expires_at - now)) +
        ", within --warn-before " +
        format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(options.warn_before));
  }

  std::vector<TargetRow> rows;
  std::set<std::string> seen;
  auto add_row = [&](const std::string& id) {
    if (!seen.insert(id).second) return;
    TargetRow row{id, 0, "", "never pushed", ""};
    if (auto it = stored.targets.find(id); it != stored.targets.end()) {
      const auto& r = it->second;
      row.generation = r.generation;
      row.pushed_at = r.pushed_at ? format_rfc3339(*r.pushed_at) : "";
      row.error = r.error;
      if (!r.error.empty()) {
        row.state = "failing";
      } else if (r.generation == stored.generation) {
        row.state = "current";
      } else if (r.generation > 0) {
        row.state = "behind";
      }
    }
    rows.push_back(row);
  };
  for (const auto& t : options.targets) add_row(t.id());
  for (const auto& [id, record] : stored.targets) add_row(id);

  if (options.json) {
    Json doc = {{"secret", options.k8s_secret.str()},
                {"serviceAccount", stored.service_account},
                {"server", stored.server},
                {"generation", stored.generation},
                {"mintedAt", time_or_dash(stored.minted_at)},
                {"expiresAt", time_or_dash(stored.expires_at)},
                {"healthy", health.empty()},
                {"problem", health},
                {"generations", Json::array()},
                {"targets", Json::array()}};
    for (const auto& g : generations) doc["generations"].push_back(g.generation);
    for (const auto& r : rows) {
      Json t = {{"target", r.id}, {"generation", r.generation}, {"state", r.state}};
      t["pushedAt"] = r.pushed_at.empty() ? Json(nullptr) : Json(r.pushed_at);
      if (!r.error.empty()) t["error"] = r.error;
      doc["targets"].push_back(t);
    }
    std::string text = doc.dump() + "\n";
    std::fputs(text.c_str(), out);
  } else {
    std::string text;
    auto line = [&](const char* key, const std::string& value) {
      text += pad(key, 12) + value + "\n";
    };
    line("Secret", options.k8s_secret.str());
    line("Account", stored.service_account);
    line("Server", stored.server);
    line("Generation",
         std::to_string(stored.generation) + ", minted " + time_or_dash(stored.minted_at));
    std::string expires = time_or_dash(stored.expires_at);
    if (stored.expires_at && *stored.expires_at > now) {
      expires += " (in " +
                 format_duration(std::chrono::duration_cast<std::chrono::milliseconds>(
                     *stored.expires_at - now)) +
                 ")";
    }
    line("Expires", expires);
    std::string gens;
    for (const auto& g : generations)
      gens += (gens.empty() ? "" : ", ") + std::to_string(g.generation);
    line("Alive", (gens.empty() ? std::string("none") : gens) +
                      " (generation Secrets in namespace " + options.service_account.namespace_ +
                      ")");
    line("Health", health.empty() ? "ok" : health);
    if (!rows.empty()) {
      size_t width = 6;
      for (const auto& r : rows) width = std::max(width, r.id.size());
      text +=
          "\n" + pad("TARGET", width) + pad("GENERATION", 10) + pad("LAST PUSH", 20) + "STATE\n";
      for (const auto& r : rows) {
        std::string state = r.state + (r.error.empty() ? "" : ": " + r.error);
        text += pad(r.id, width) + pad(r.generation > 0 ? std::to_string(r.generation) : "-", 10) +
                pad(r.pushed_at.empty() ? "never" : r.pushed_at, 20) + state + "\n";
      }
    }
    std::fputs(text.c_str(), out);
  }
  std::fflush(out);
  if (!health.empty()) {
    logger().error("the kubeconfig in Secret " + options.k8s_secret.str() + " is " + health +
                   "; run fluxkey rotate");
    return ExitCode::kFailed;
  }
  return ExitCode::kOk;
}

}  // namespace fluxkey::commands
