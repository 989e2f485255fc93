// github-sim: a local HTTPS stand-in for the GitHub REST API (Actions
// secrets, GitHub App authentication, rate limits), kept honest by the real
// gh CLI. Flags and controls are documented in tests/sim/README.md.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <sstream>

#include "sim/common/secret_ledger.h"
#include "sim/common/sim_server.h"
#include "sim/github/api.h"

namespace {

using fluxkey::sim::github::ApiRequest;
using fluxkey::sim::github::ApiResponse;
using fluxkey::sim::github::GithubApi;

ApiRequest to_api_request(const httplib::Request& req) {
  ApiRequest out;
  out.method = req.method;
  out.target = req.target;
  // httplib keeps repeated headers; the first one wins, as Go's Header.Get does.
  for (const auto& [name, value] : req.headers) out.headers.emplace(name, value);
  out.body = req.body;
  out.remote_addr = req.remote_addr;
  return out;
}

void send(const ApiResponse& r, httplib::Response& res) {
  res.status = r.status;
  std::string content_type;
  for (const auto& [name, value] : r.headers) {
    if (fluxkey::sim::github::iequals(name, "Content-Type")) {
      content_type = value;
    } else {
      res.set_header(name, value);
    }
  }
  if (!r.body.empty() || !content_type.empty()) {
    res.set_content(r.body, content_type.empty() ? "application/json" : content_type);
  }
}

const char* reason_phrase(int status) {
  switch (status) {
    case 400:
      return "Bad Request";
    case 401:
      return "Bad credentials";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 422:
      return "Unprocessable Entity";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Server Error";
    case 503:
      return "Service Unavailable";
    case 504:
      return "We couldn't respond to your request in time. Sorry about that. Please try "
             "resubmitting your request and contact us if the problem persists.";
    default:
      return "Server Error";
  }
}

// A control endpoint that feeds the body to `apply` and answers its result,
// or 400 with the message of a bad request.
fluxkey::sim::ControlHandler control(std::function<nlohmann::json(const nlohmann::json&)> apply) {
  return [apply](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json body =
        req.body.empty() ? nlohmann::json::object() : fluxkey::sim::parse_json_body(req);
    if (body.is_discarded()) {
      fluxkey::sim::reply_json(res, 400, {{"message", "body is not valid JSON"}});
      return;
    }
    try {
      fluxkey::sim::reply_json(res, 200, apply(body));
    } catch (const std::invalid_argument& e) {
      fluxkey::sim::reply_json(res, 400, {{"message", e.what()}});
    }
  };
}

}  // namespace

int main(int argc, char** argv) {
  fluxkey::sim::SimOptions options;
  CLI::App app{"github-sim: a local stand-in for the GitHub REST API (Actions secrets)"};
  fluxkey::sim::add_sim_options(app, options);
  std::vector<std::string> repos, orgs, tokens;
  std::string setup_file;
  nlohmann::json limits = nlohmann::json::object();
  double time_scale = 1.0;
  int primary = -1, writes_per_minute = -1, max_concurrent = -1;
  app.add_option("--repo", repos, "repository OWNER/NAME[:ENV,ENV] (repeatable)");
  app.add_option("--org", orgs, "organization (repeatable)");
  app.add_option("--token", tokens,
                 "personal access token TOKEN[=scope,scope] (repeatable; default scopes "
                 "repo,admin:org)");
  app.add_option("--setup", setup_file, "JSON file with the body of a POST /_sim/setup")
      ->check(CLI::ExistingFile);
  app.add_option("--time-scale", time_scale,
                 "multiplies every rate-limit window and the "
                 "installation token lifetime (0.01: an hour is 36 s)")
      ->check(CLI::PositiveNumber);
  app.add_option("--primary-limit", primary, "requests per (scaled) hour per token")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--writes-per-minute", writes_per_minute,
                 "content-creating requests per (scaled) minute before the secondary limit")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-concurrent", max_concurrent, "concurrent requests per token")
      ->check(CLI::PositiveNumber);
  CLI11_PARSE(app, argc, argv);

  fluxkey::sim::SimServer server("github-sim", options);
  fluxkey::sim::open_secret_ledger(server.state_dir());
  GithubApi api([] { return fluxkey::Clock::now(); },
                [&server](const std::string& message) { server.note(message); });
  try {
    nlohmann::json seed = {
        {"repos", nlohmann::json::array()}, {"orgs", orgs}, {"tokens", nlohmann::json::array()}};
    for (const auto& r : repos) seed["repos"].push_back(GithubApi::repo_spec_from_flag(r));
    for (const auto& t : tokens) seed["tokens"].push_back(GithubApi::token_spec_from_flag(t));
    api.apply_setup(seed);
    if (!setup_file.empty()) {
      std::ifstream in(setup_file);
      std::stringstream text;
      text << in.rdbuf();
      nlohmann::json spec = nlohmann::json::parse(text.str(), nullptr, false);
      if (spec.is_discarded()) throw std::invalid_argument(setup_file + " is not valid JSON");
      api.apply_setup(spec);
    }
    limits["time_scale"] = time_scale;
    if (primary >= 0) limits["primary"] = primary;
    if (writes_per_minute >= 0) limits["writes_per_minute"] = writes_per_minute;
    if (max_concurrent > 0) limits["max_concurrent"] = max_concurrent;
    api.apply_limits(limits);
  } catch (const std::invalid_argument& e) {
    std::cerr << "github-sim: " << e.what() << std::endl;
    return 2;
  }

  server.set_handler(
      [&api](const httplib::Request& req, httplib::Response& res, fluxkey::sim::SimContext& ctx) {
        send(api.handle(to_api_request(req), &ctx.user), res);
      });
  server.set_fault_body_builder([](int status) {
    const char* reason = reason_phrase(status);
    return std::make_pair(std::string("application/json; charset=utf-8"),
                          nlohmann::json({{"message", reason},
                                          {"documentation_url", "https://docs.github.com/rest"},
                                          {"status", std::to_string(status)}})
                              .dump());
  });
  server.add_control("POST", "/_sim/setup",
                     control([&api](const nlohmann::json& b) { return api.apply_setup(b); }));
  server.add_control("POST", "/_sim/rotate-key",
                     control([&api](const nlohmann::json& b) { return api.rotate_key(b); }));
  server.add_control("POST", "/_sim/limits",
                     control([&api](const nlohmann::json& b) { return api.apply_limits(b); }));
  server.add_control("GET", "/_sim/secrets",
                     [&api](const httplib::Request&, httplib::Response& res) {
                       fluxkey::sim::reply_json(res, 200, api.secrets());
                     });
  server.add_control("GET", "/_sim/state", [&api](const httplib::Request&, httplib::Response& res) {
    fluxkey::sim::reply_json(res, 200, api.state());
  });
  return server.run();
}
