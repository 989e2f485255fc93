// kube-sim's own /_sim/ control endpoints (the frame adds requests, faults
// and latency): static tokens, client certificates, the clock, seeding and
// a read-back of minted ServiceAccount tokens (metadata only).
#include "core/time.h"
#include "sim/common/secret_ledger.h"
#include "sim/kube/kube_api.h"
#include "sim/kube/yaml_json.h"

namespace fluxkey::sim::kube {
namespace {

std::vector<std::string> string_list(const nlohmann::json& v) {
  std::vector<std::string> out;
  if (!v.is_array()) return out;
  for (const auto& item : v) {
    if (item.is_string()) out.push_back(item.get<std::string>());
  }
  return out;
}

void control_error(httplib::Response& res, int status, const std::string& message) {
  reply_json(res, status, {{"message", message}});
}

}  // namespace

void KubeApi::install_controls() {
  server_.add_control(
      "POST", "/_sim/tokens", [this](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json body = parse_json_body(req);
        if (!body.is_object() || !body.contains("user") || !body["user"].is_string() ||
            body["user"].get<std::string>().empty()) {
          control_error(res, 400,
                        "body must be {\"user\": NAME, \"groups\": [...], \"token\": optional}");
          return;
        }
        std::string token = body.value("token", "");
        if (token.empty()) token = random_token();
        UserInfo user{body["user"].get<std::string>(),
                      body.value("uid", ""),
                      string_list(body.value("groups", nlohmann::json::array())),
                      {}};
        authn_.add_token(token, user);
        record_secret("static token", token);
        reply_json(res, 201, {{"token", token}, {"user", user.name}, {"groups", user.groups}});
      });
  server_.add_control("GET", "/_sim/tokens",
                      [this](const httplib::Request&, httplib::Response& res) {
                        reply_json(res, 200, sa_tokens_.minted());
                      });
  server_.add_control(
      "POST", "/_sim/client-certs", [this](const httplib::Request& req, httplib::Response& res) {
        nlohmann::json body = parse_json_body(req);
        if (!body.is_object() || !body.contains("user") || !body["user"].is_string() ||
            body["user"].get<std::string>().empty()) {
          control_error(res, 400, "body must be {\"user\": NAME, \"groups\": [...]}");
          return;
        }
        CertAndKey issued =
            server_.pki().issue_client(body["user"].get<std::string>(),
                                       string_list(body.value("groups", nlohmann::json::array())));
        record_secret("client key", issued.key_pem());
        reply_json(res, 201, {{"cert_pem", issued.cert_pem()}, {"key_pem", issued.key_pem()}});
      });
  auto clock_state = [this] {
    return nlohmann::json{{"offset_seconds", clock_.offset()},
                          {"now", format_rfc3339(clock_.now())}};
  };
  server_.add_control("GET", "/_sim/clock",
                      [clock_state](const httplib::Request&, httplib::Response& res) {
                        reply_json(res, 200, clock_state());
                      });
  server_.add_control("POST", "/_sim/clock",
                      [this, clock_state](const httplib::Request& req, httplib::Response& res) {
                        nlohmann::json body = parse_json_body(req);
                        if (!body.is_object() || !body.contains("offset_seconds") ||
                            !body["offset_seconds"].is_number_integer()) {
                          control_error(res, 400, "body must be {\"offset_seconds\": N}");
                          return;
                        }
                        clock_.set_offset(body["offset_seconds"].get<int64_t>());
                        reply_json(res, 200, clock_state());
                      });
  server_.add_control(
      "POST", "/_sim/objects", [this](const httplib::Request& req, httplib::Response& res) {
        std::vector<nlohmann::json> docs;
        try {
          docs = parse_yaml_documents(req.body);
        } catch (const std::runtime_error& e) {
          control_error(res, 400, std::string("cannot parse the objects: ") + e.what());
          return;
        }
        nlohmann::json out = nlohmann::json::array();
        try {
          for (const auto& doc : docs) {
            nlohmann::json stored = seed(doc);
            if (stored.is_array()) {
              for (auto& s : stored) out.push_back(std::move(s));
            } else {
              out.push_back(std::move(stored));
            }
          }
        } catch (const ApiError& e) {
          reply_error(res, e);
          return;
        }
        reply_json(res, 201, out);
      });
}

}  // namespace fluxkey::sim::kube
