#include "github/target.h"

#include <cctype>

#include "core/error.h"
#include "core/text.h"
#include "github/path.h"

namespace fluxkey::github {
namespace {

bool ascii_letter(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}
bool ascii_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

Target Target::repository(std::string owner, std::string repo) {
  Target t;
  t.scope = Scope::kRepository;
  t.owner = std::move(owner);
  t.repo = std::move(repo);
  return t;
}

Target Target::environment_of(std::string owner, std::string repo, std::string environment) {
  Target t;
  t.scope = Scope::kEnvironment;
  t.owner = std::move(owner);
  t.repo = std::move(repo);
  t.environment = std::move(environment);
  return t;
}

Target Target::organization(std::string org) {
  Target t;
  t.scope = Scope::kOrganization;
  t.owner = std::move(org);
  return t;
}

std::string Target::id() const {
  switch (scope) {
    case Scope::kRepository:
      return owner + "/" + repo;
    case Scope::kEnvironment:
      return owner + "/" + repo + ":" + environment;
    case Scope::kOrganization:
      return "org:" + owner;
  }
  return owner;
}

std::string Target::describe() const {
  switch (scope) {
    case Scope::kRepository:
      return "repository " + owner + "/" + repo;
    case Scope::kEnvironment:
      return "environment " + environment + " of " + owner + "/" + repo;
    case Scope::kOrganization:
      return "organization " + owner;
  }
  return owner;
}

std::string Target::secrets_path() const {
  // Owner and repository names never need encoding on GitHub, but encoding
  // them costs nothing and keeps a typo from changing the path's shape.
  switch (scope) {
    case Scope::kRepository:
      return "/repos/" + path_segment(owner) + "/" + path_segment(repo) + "/actions/secrets";
    case Scope::kEnvironment:
      return "/repos/" + path_segment(owner) + "/" + path_segment(repo) + "/environments/" +
             path_segment(environment) + "/secrets";
    case Scope::kOrganization:
      return "/orgs/" + path_segment(owner) + "/actions/secrets";
  }
  return "";
}

void validate_secret_name(const std::string& flag, const std::string& name) {
  auto refuse = [&](const std::string& rule) {
    throw UsageError("invalid " + flag + " " + quote(name) + ": " + rule);
  };
  if (name.empty()) refuse("a GitHub secret name must not be empty");
  for (unsigned char c : name) {
    if (!ascii_letter(c) && !ascii_digit(c) && c != '_') {
      refuse("a GitHub secret name may contain only letters, digits and underscores");
    }
  }
  if (ascii_digit(static_cast<unsigned char>(name[0]))) {
    refuse("a GitHub secret name must not start with a digit");
  }
  static const std::string kReserved = "GITHUB_";
  if (name.size() >= kReserved.size()) {
    bool reserved = true;
    for (size_t i = 0; i < kReserved.size(); ++i) {
      if (std::toupper(static_cast<unsigned char>(name[i])) != kReserved[i]) reserved = false;
    }
    if (reserved) refuse("names starting with GITHUB_ are reserved by GitHub");
  }
}

}  // namespace fluxkey::github
