#include "http/url.h"

namespace fluxkey::http {
namespace {

struct Parts {
  std::string_view scheme;     // without "://"; empty when the URL has none
  std::string_view authority;  // userinfo already removed
  std::string_view path;       // up to, not including, '?' or '#'
};

Parts split(std::string_view url) {
  Parts parts;
  std::string_view rest = url;
  if (auto sep = rest.find("://"); sep != std::string_view::npos) {
    parts.scheme = rest.substr(0, sep);
    rest.remove_prefix(sep + 3);
  }
  auto authority_end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, authority_end);
  // The last '@' ends the userinfo: passwords may themselves hold an
  // (unescaped) '@', host names never do.
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority.remove_prefix(at + 1);
  }
  parts.authority = authority;
  if (authority_end != std::string_view::npos) {
    rest.remove_prefix(authority_end);
    parts.path = rest.substr(0, rest.find_first_of("?#"));
  }
  return parts;
}

}  // namespace

std::string loggable_url(std::string_view url) {
  Parts parts = split(url);
  std::string out;
  if (!parts.scheme.empty()) {
    out += parts.scheme;
    out += "://";
  }
  out += parts.authority;
  out += parts.path;
  return out;
}

std::string host_port(std::string_view url) {
  Parts parts = split(url);
  std::string_view authority = parts.authority;
  // An IPv6 literal holds colons of its own; a port follows its ']'.
  auto host_end = authority.starts_with('[') ? authority.find(']') : std::string_view::npos;
  auto colon = authority.find(':', host_end == std::string_view::npos ? 0 : host_end);
  if (colon != std::string_view::npos) return std::string(authority);
  std::string out(authority);
  out += parts.scheme == "http" ? ":80" : ":443";
  return out;
}

std::string percent_encode(std::string_view text) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (unsigned char c : text) {
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

}  // namespace fluxkey::http
