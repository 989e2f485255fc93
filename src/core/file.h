// Files as fluxkey touches them: read whole, or written privately (0600) and
// atomically, so a failure never leaves a half-written kubeconfig behind.
#pragma once

#include <string>

namespace fluxkey {

// Reads a whole file. Throws UsageError naming `what` and the path when it
// cannot be read ("cannot read kubeconfig /x: No such file or directory").
std::string read_file(const std::string& path, const std::string& what);

// Writes content to path with mode 0600: a temporary file in the same folder,
// fsync, then rename. The temporary is removed on every failure.
void write_private_file(const std::string& path, const std::string& content);

// Expands a leading "~/" with $HOME.
std::string expand_home(const std::string& path);

}  // namespace fluxkey
