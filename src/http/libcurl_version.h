#pragma once

#include <string>

namespace fluxkey::http {

// The version of the libcurl loaded at run time ("7.88.1"), which can differ
// from the headers fluxkey was built with: libcurl is a shared library.
std::string libcurl_version();

}  // namespace fluxkey::http
