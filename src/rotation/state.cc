#include "rotation/state.h"

#include <algorithm>

#include "core/base64.h"
#include "core/error.h"
#include "http/url.h"

namespace fluxkey::rotation {
namespace {

using kube::Json;

std::string secrets_path(const std::string& ns) {
  return "/api/v1/namespaces/" + ns + "/secrets";
}

// Members read leniently, as annotation() does: absent or of another type
// means empty. (Json::value() throws on a type mismatch, and an odd reply is
// no reason for an exception that is not an Error.)
const Json& member(const Json& parent, const char* key, const Json& empty) {
  if (!parent.is_object()) return empty;
  auto it = parent.find(key);
  return it != parent.end() && it->type() == empty.type() ? *it : empty;
}

const Json& object_at(const Json& parent, const char* key) {
  static const Json kEmpty = Json::object();
  return member(parent, key, kEmpty);
}

std::string string_at(const Json& parent, const char* key) {
  static const Json kEmpty = "";
  return member(parent, key, kEmpty).get<std::string>();
}

std::string annotation(const Json& meta, const char* key) {
  const Json annotations = meta.value("annotations", Json::object());
  auto it = annotations.find(key);
  return it != annotations.end() && it->is_string() ? it->get<std::string>() : "";
}

long parse_generation(const std::string& text) {
  if (text.empty() || text.size() > 12 ||
      !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return 0;
  }
  return std::stol(text);
}

std::optional<Clock::time_point> optional_time(const std::string& text) {
  if (text.empty()) return std::nullopt;
  return parse_rfc3339(text);
}

}  // namespace

std::string encode_targets(const std::map<std::string, TargetRecord>& targets) {
  Json out = Json::object();
  for (const auto& [id, record] : targets) {
    Json entry = Json::object();
    if (record.generation > 0) entry["generation"] = record.generation;
    if (record.pushed_at) entry["pushedAt"] = format_rfc3339(*record.pushed_at);
    if (!record.error.empty()) entry["error"] = record.error;
    if (record.failed_at) entry["failedAt"] = format_rfc3339(*record.failed_at);
    out[id] = entry;
  }
  return out.dump();
}

std::map<std::string, TargetRecord> decode_targets(const std::string& json) {
  std::map<std::string, TargetRecord> out;
  if (json.empty()) return out;
  // A hand-edited annotation that no longer parses means "unknown": every
  // target then counts as not current and is pushed again.
  Json parsed = Json::parse(json, nullptr, false);
  if (!parsed.is_object()) return out;
  for (const auto& [id, entry] : parsed.items()) {
    if (!entry.is_object()) continue;
    TargetRecord record;
    if (entry.contains("generation") && entry["generation"].is_number_integer()) {
      record.generation = entry["generation"].get<long>();
    }
    if (entry.contains("pushedAt") && entry["pushedAt"].is_string()) {
      record.pushed_at = parse_rfc3339(entry["pushedAt"].get<std::string>());
    }
    if (entry.contains("error") && entry["error"].is_string()) {
      record.error = entry["error"].get<std::string>();
    }
    if (entry.contains("failedAt") && entry["failedAt"].is_string()) {
      record.failed_at = parse_rfc3339(entry["failedAt"].get<std::string>());
    }
    out[id] = record;
  }
  return out;
}

Store::Store(kube::Client& client, NamespacedName kubeconfig_secret, NamespacedName service_account)
    : client_(client), secret_(std::move(kubeconfig_secret)), sa_(std::move(service_account)) {}

StoredKubeconfig Store::read() {
  StoredKubeconfig out;
  auto secret = client_.get_optional(secrets_path(secret_.namespace_) + "/" + secret_.name);
  if (!secret) return out;
  const Json& meta = object_at(*secret, "metadata");
  if (string_at(object_at(meta, "labels"), kManagedByLabel) != "fluxkey") {
    throw UsageError("Secret " + secret_.str() + " exists but is not managed by fluxkey (no " +
                     kManagedByLabel + "=fluxkey label); pass another --k8s-secret or delete it");
  }
  out.exists = true;
  out.resource_version = string_at(meta, "resourceVersion");
  const Json& data = object_at(*secret, "data");
  if (data.contains("kubeconfig") && data["kubeconfig"].is_string()) {
    out.kubeconfig = base64_decode(data["kubeconfig"].get<std::string>()).value_or("");
  }
  out.generation = parse_generation(annotation(meta, kGenerationAnnotation));
  out.minted_at = optional_time(annotation(meta, kMintedAtAnnotation));
  out.expires_at = optional_time(annotation(meta, kExpiresAtAnnotation));
  out.revoked_at = optional_time(annotation(meta, kRevokedAtAnnotation));
  out.service_account = annotation(meta, kServiceAccountAnnotation);
  out.server = annotation(meta, kServerAnnotation);
  out.targets = decode_targets(annotation(meta, kTargetsAnnotation));
  return out;
}

std::vector<GenerationSecret> Store::generations() {
  std::string selector =
      std::string(kManagedByLabel) + "=fluxkey," + kOwnerLabel + "=" + secret_.name;
  Json list = client_.get(secrets_path(sa_.namespace_) +
                          "?labelSelector=" + http::percent_encode(selector));
  std::vector<GenerationSecret> out;
  static const Json kNoItems = Json::array();
  for (const auto& item : member(list, "items", kNoItems)) {
    const Json& meta = object_at(item, "metadata");
    // The label holds only the name; the annotation tells Secrets of
    // same-named kubeconfig Secrets in other namespaces apart.
    if (annotation(meta, kOwnerAnnotation) != secret_.str()) continue;
    GenerationSecret g;
    g.name = string_at(meta, "name");
    g.generation = parse_generation(annotation(meta, kGenerationAnnotation));
    g.created_at =
        parse_rfc3339(string_at(meta, "creationTimestamp")).value_or(Clock::time_point{});
    if (g.generation > 0) out.push_back(g);
  }
  std::sort(out.begin(), out.end(),
            [](const auto& a, const auto& b) { return a.generation < b.generation; });
  return out;
}

std::string Store::generation_name(long generation) const {
  return secret_.name + "-gen-" + std::to_string(generation);
}

std::string Store::generation_ref(const std::string& name) const {
  return generation_secret_ref(sa_.namespace_, name);
}

std::string generation_secret_ref(const std::string& namespace_, const std::string& name) {
  return "generation Secret " + namespace_ + "/" + name;
}

std::string Store::create_generation(long generation) {
  Json body = {{"apiVersion", "v1"},
               {"kind", "Secret"},
               {"type", kGenerationSecretType},
               {"metadata",
                {{"name", generation_name(generation)},
                 {"namespace", sa_.namespace_},
                 {"labels", {{kManagedByLabel, "fluxkey"}, {kOwnerLabel, secret_.name}}},
                 {"annotations",
                  {{kOwnerAnnotation, secret_.str()},
                   {kGenerationAnnotation, std::to_string(generation)},
                   {kServiceAccountAnnotation, sa_.str()},
                   {"fluxkey.io/description",
                    "the token of generation " + std::to_string(generation) +
                        " is bound to this Secret: deleting it revokes the token"}}}}}};
  Json created = client_.create(secrets_path(sa_.namespace_), body);
  std::string uid = string_at(object_at(created, "metadata"), "uid");
  if (uid.empty())
    throw Error("the API server returned Secret " + sa_.namespace_ + "/" +
                generation_name(generation) + " without a uid");
  return uid;
}

void Store::delete_generation(const std::string& name) {
  try {
    client_.remove(secrets_path(sa_.namespace_) + "/" + name);
  } catch (const kube::ApiError& e) {
    if (e.status() != 404) throw;
  }
}

void Store::write(StoredKubeconfig& stored) {
  Json annotations = {{kGenerationAnnotation, std::to_string(stored.generation)},
                      {kServiceAccountAnnotation, stored.service_account},
                      {kServerAnnotation, stored.server},
                      {kTargetsAnnotation, encode_targets(stored.targets)}};
  if (stored.minted_at) annotations[kMintedAtAnnotation] = format_rfc3339(*stored.minted_at);
  if (stored.expires_at) annotations[kExpiresAtAnnotation] = format_rfc3339(*stored.expires_at);
  if (stored.revoked_at) annotations[kRevokedAtAnnotation] = format_rfc3339(*stored.revoked_at);
  Json meta = {{"name", secret_.name},
               {"namespace", secret_.namespace_},
               {"labels", {{kManagedByLabel, "fluxkey"}}},
               {"annotations", annotations}};
  if (!stored.resource_version.empty()) meta["resourceVersion"] = stored.resource_version;
  Json body = {{"apiVersion", "v1"},
               {"kind", "Secret"},
               {"type", "Opaque"},
               {"metadata", meta},
               {"data", {{"kubeconfig", base64_encode(stored.kubeconfig)}}}};
  Json written = client_.apply(secrets_path(secret_.namespace_) + "/" + secret_.name, body,
                               kFieldManager, true);
  stored.exists = true;
  stored.resource_version = string_at(object_at(written, "metadata"), "resourceVersion");
}

}  // namespace fluxkey::rotation
