// What this binary was built as: the values meson stamped in (build_version,
// build_commit, build_date) and the compiler's target. Declared here, defined
// in the one file that sees the generated values, so that a new commit
// recompiles that file alone.
#pragma once

#include "core/build_info.h"

namespace fluxkey {

// "v1.2.3": `fluxkey --version` and the User-Agent "fluxkey/v1.2.3".
const char* build_version();

// Version, commit, build date, platform and compiler; the library fields empty
// (the libraries are asked at run time: commands/version.h).
BuildInfo stamped_build_info();

}  // namespace fluxkey
