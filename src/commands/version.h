// `fluxkey version`: what a bug report needs, as `kubectl version --client`.
#pragma once

#include <cstdio>
#include <string>

#include "core/build_info.h"

namespace fluxkey::commands {

// The stamped build and the libraries this process runs with.
BuildInfo running_build_info();

// `output` is "text", "json" or "yaml" (the caller rejects anything else).
void run_version(const std::string& output, std::FILE* out);

}  // namespace fluxkey::commands
