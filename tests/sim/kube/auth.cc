#include "sim/kube/auth.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "core/time.h"
#include "sim/common/jwt.h"
#include "sim/common/secret_ledger.h"
#include "sim/common/sim_server.h"
#include "sim/kube/api_error.h"

namespace fluxkey::sim::kube {
namespace {

constexpr int64_t kMinExpiration = 10 * 60;
constexpr int64_t kMaxExpiration = int64_t{1} << 32;
constexpr int64_t kDefaultExpiration = 3600;

int64_t unix_seconds(std::chrono::system_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::seconds>(t.time_since_epoch()).count();
}

// Constant-time comparison, so a token cannot be guessed byte by byte.
bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

nlohmann::json UserInfo::to_json() const {
  nlohmann::json j = {{"username", name}, {"groups", groups}};
  if (!uid.empty()) j["uid"] = uid;
  if (!extra.empty()) j["extra"] = extra;
  return j;
}

std::string random_token() {
  unsigned char b[32];
  RAND_bytes(b, sizeof b);
  return base64url_encode(std::string_view(reinterpret_cast<const char*>(b), sizeof b));
}

ServiceAccountTokens::ServiceAccountTokens(Store& store, const SimClock& clock)
    : store_(store), clock_(clock), key_(generate_ec_key()) {
  // The key id is the SHA-256 of the public key (DER), as the real server derives it.
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key_.get(), &der);
  if (len <= 0) throw_openssl("i2d_PUBKEY");
  unsigned char digest[32];
  unsigned int digest_len = 0;
  bool ok =
      EVP_Digest(der, static_cast<size_t>(len), digest, &digest_len, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) throw_openssl("EVP_Digest");
  kid_ = base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), digest_len));
}

nlohmann::json ServiceAccountTokens::create(const std::string& ns, const std::string& name,
                                            const nlohmann::json& request) {
  const std::string gk_group = "authentication.k8s.io";
  nlohmann::json req = request.is_object() ? request : nlohmann::json::object();
  nlohmann::json meta = req.value("metadata", nlohmann::json::object());
  if (meta.contains("name") && meta["name"].is_string() &&
      !meta["name"].get<std::string>().empty() && meta["name"] != name) {
    throw invalid(gk_group, "TokenRequest", name,
                  {{"Invalid value", "metadata.name", meta["name"],
                    "must match the service account name if specified"}});
  }
  if (meta.contains("namespace") && meta["namespace"].is_string() &&
      !meta["namespace"].get<std::string>().empty() && meta["namespace"] != ns) {
    throw invalid(gk_group, "TokenRequest", name,
                  {{"Invalid value", "metadata.namespace", meta["namespace"],
                    "must match the service account namespace if specified"}});
  }
  auto sa = store_.get({"", "serviceaccounts", ns, name});
  if (!sa) throw not_found("", "serviceaccounts", name);
  std::string sa_uid = (*sa)["metadata"].value("uid", "");

  nlohmann::json spec = req.value("spec", nlohmann::json::object());
  if (!spec.is_object()) throw bad_request("spec must be an object");
  std::vector<std::string> audiences;
  if (spec.contains("audiences") && spec["audiences"].is_array()) {
    for (const auto& a : spec["audiences"]) {
      if (a.is_string()) audiences.push_back(a.get<std::string>());
    }
  }
  if (audiences.empty()) audiences = api_audiences_;
  int64_t expiration = kDefaultExpiration;
  if (spec.contains("expirationSeconds") && !spec["expirationSeconds"].is_null()) {
    if (!spec["expirationSeconds"].is_number_integer()) {
      throw bad_request("spec.expirationSeconds must be an integer");
    }
    expiration = spec["expirationSeconds"].get<int64_t>();
  }
  // Static validation runs with an empty name on the real server.
  if (expiration < kMinExpiration) {
    throw invalid(gk_group, "TokenRequest", "",
                  {{"Invalid value", "spec.expirationSeconds", expiration,
                    "may not specify a duration less than 10 minutes"}});
  }
  if (expiration > kMaxExpiration) {
    throw invalid(gk_group, "TokenRequest", "",
                  {{"Invalid value", "spec.expirationSeconds", expiration,
                    "may not specify a duration larger than 2^32 seconds"}});
  }

  std::string secret_name, secret_uid;
  if (spec.contains("boundObjectRef") && spec["boundObjectRef"].is_object()) {
    const nlohmann::json& ref = spec["boundObjectRef"];
    std::string kind = ref.value("kind", "");
    std::string api_version = ref.value("apiVersion", "");
    std::string ref_name = ref.value("name", "");
    std::string ref_uid = ref.value("uid", "");
    std::string group, version = api_version;
    if (size_t slash = api_version.find('/'); slash != std::string::npos) {
      group = api_version.substr(0, slash);
      version = api_version.substr(slash + 1);
    }
    std::string uid;
    if (group.empty() && kind == "Pod") {
      // kube-sim runs no pods: a pod reference can only be missing.
      throw not_found("", "pods", ref_name);
    } else if (group.empty() && kind == "Secret") {
      auto secret = store_.get({"", "secrets", ns, ref_name});
      if (!secret) throw not_found("", "secrets", ref_name);
      uid = (*secret)["metadata"].value("uid", "");
      secret_name = ref_name;
      secret_uid = uid;
    } else {
      throw bad_request("cannot bind token to object of type " + group + "/" + version +
                        ", Kind=" + kind);
    }
    if (!ref_uid.empty() && ref_uid != uid) {
      throw conflict(group, kind, ref_name,
                     "the UID in the bound object reference (" + ref_uid +
                         ") does not match the UID in record. The object might have been deleted "
                         "and then recreated");
    }
  }

  auto now = clock_.now();
  int64_t iat = unix_seconds(now);
  Minted m;
  m.jti = new_uid();
  m.ns = ns;
  m.sa = name;
  m.sa_uid = sa_uid;
  m.secret = secret_name;
  m.secret_uid = secret_uid;
  m.audiences = audiences;
  m.iat = iat;
  m.exp = iat + expiration;
  nlohmann::json k8s = {{"namespace", ns}, {"serviceaccount", {{"name", name}, {"uid", sa_uid}}}};
  if (!secret_name.empty()) k8s["secret"] = {{"name", secret_name}, {"uid", secret_uid}};
  nlohmann::json claims = {{"aud", audiences}, {"exp", m.exp},
                           {"iat", iat},       {"iss", kIssuer},
                           {"jti", m.jti},     {"kubernetes.io", k8s},
                           {"nbf", iat},       {"sub", "system:serviceaccount:" + ns + ":" + name}};
  std::string token = jwt_sign(claims, key_.get(), kid_);
  record_secret("ServiceAccount token", token);
  {
    std::lock_guard<std::mutex> lock(mu_);
    minted_[m.jti] = m;
  }

  nlohmann::json out_meta = meta.is_object() ? meta : nlohmann::json::object();
  out_meta["name"] = name;
  out_meta["namespace"] = ns;
  out_meta["creationTimestamp"] = format_rfc3339(now);
  spec["audiences"] = audiences;
  spec["expirationSeconds"] = expiration;
  return {{"kind", "TokenRequest"},
          {"apiVersion", "authentication.k8s.io/v1"},
          {"metadata", out_meta},
          {"spec", spec},
          {"status",
           {{"token", token},
            {"expirationTimestamp", format_rfc3339(now + std::chrono::seconds(expiration))}}}};
}

std::string ServiceAccountTokens::why_invalid(const Minted& m) const {
  int64_t now = unix_seconds(clock_.now());
  if (now >= m.exp) return "expired";
  if (now < m.iat) return "not yet valid";
  auto sa = store_.get({"", "serviceaccounts", m.ns, m.sa});
  if (!sa || (*sa)["metadata"].value("uid", "") != m.sa_uid) return "service account deleted";
  if (!m.secret.empty()) {
    auto secret = store_.get({"", "secrets", m.ns, m.secret});
    if (!secret || (*secret)["metadata"].value("uid", "") != m.secret_uid) {
      return "bound secret deleted";
    }
  }
  return "";
}

std::optional<UserInfo> ServiceAccountTokens::authenticate(const std::string& token) const {
  auto verified = jwt_verify(token, key_.get());
  if (!verified) return std::nullopt;
  const nlohmann::json& c = verified->claims;
  if (c.value("iss", "") != kIssuer || !c.contains("jti") || !c["jti"].is_string()) {
    return std::nullopt;
  }
  Minted m;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = minted_.find(c["jti"].get<std::string>());
    if (it == minted_.end()) return std::nullopt;
    m = it->second;
  }
  bool audience_ok = false;
  for (const auto& a : m.audiences) {
    for (const auto& accepted : api_audiences_) audience_ok = audience_ok || a == accepted;
  }
  if (!audience_ok || !why_invalid(m).empty()) return std::nullopt;
  UserInfo user;
  user.name = "system:serviceaccount:" + m.ns + ":" + m.sa;
  user.uid = m.sa_uid;
  user.groups = {"system:serviceaccounts", "system:serviceaccounts:" + m.ns,
                 "system:authenticated"};
  user.extra["authentication.kubernetes.io/credential-id"] = {"JTI=" + m.jti};
  return user;
}

nlohmann::json ServiceAccountTokens::minted() const {
  std::lock_guard<std::mutex> lock(mu_);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& [jti, m] : minted_) {
    std::string why = why_invalid(m);
    nlohmann::json j = {{"jti", jti},
                        {"sub", "system:serviceaccount:" + m.ns + ":" + m.sa},
                        {"namespace", m.ns},
                        {"serviceAccount", m.sa},
                        {"audiences", m.audiences},
                        {"iat", m.iat},
                        {"exp", m.exp},
                        {"alive", why.empty()}};
    if (!why.empty()) j["reason"] = why;
    if (!m.secret.empty()) j["boundSecret"] = {{"name", m.secret}, {"uid", m.secret_uid}};
    out.push_back(std::move(j));
  }
  return out;
}

void Authenticator::add_token(const std::string& token, UserInfo user) {
  bool has = false;
  for (const auto& g : user.groups) has = has || g == "system:authenticated";
  if (!has) user.groups.push_back("system:authenticated");
  std::lock_guard<std::mutex> lock(mu_);
  tokens_[token] = std::move(user);
}

std::optional<UserInfo> Authenticator::authenticate(const httplib::Request& req) const {
  // As the real server's union authenticator: a verified client certificate
  // first, then the bearer token.
  if (X509Ptr cert = verified_peer_certificate(req)) {
    CertSubject subject = subject_of(cert.get());
    if (!subject.common_name.empty()) {
      UserInfo user{subject.common_name, "", subject.organizations, {}};
      user.groups.push_back("system:authenticated");
      return user;
    }
  }
  std::string header = req.get_header_value("Authorization");
  const std::string prefix = "Bearer ";
  if (header.size() <= prefix.size() || header.compare(0, prefix.size(), prefix) != 0) {
    return std::nullopt;
  }
  std::string token = header.substr(prefix.size());
  while (!token.empty() && token.back() == ' ') token.pop_back();
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [known, user] : tokens_) {
      if (same_secret(known, token)) return user;
    }
  }
  return sa_tokens_.authenticate(token);
}

}  // namespace fluxkey::sim::kube
