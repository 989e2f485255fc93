// Runs the image `./dev image` built, as a container runtime would, for the
// tests of test suite "image": the image's files as the root, its entry
// point, only the environment given, the user and mounts a test names.
// Bubblewrap makes the namespaces (Docker has no daemon here); an image of
// another architecture runs under qemu-user, the binary and libraries its own.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "support/fluxkey_run.h"

namespace fluxkey::testing {

struct Mount {
  std::string host;
  std::string container;
  bool writable = false;
};

struct ContainerSpec {
  std::vector<std::string> args;  // after the entry point, as a pod's args or action.yml's
  Env env;                        // the container's whole environment
  std::vector<Mount> mounts;
  int uid = 0;  // and gid: the image has no USER, so a runner runs it as root
  int gid = 0;
  bool read_only_root = false;  // a pod's readOnlyRootFilesystem
  std::string workdir = "/";
  std::chrono::milliseconds timeout = std::chrono::seconds(120);
};

class Image {
 public:
  // $FLUXKEY_IMAGE: a folder with rootfs/ and config.json (the image's OCI
  // config), as ./dev image leaves them in build-image/ARCH.
  static Image from_env();

  const std::string& dir() const { return dir_; }
  std::string rootfs() const { return dir_ + "/rootfs"; }
  const std::string& architecture() const { return architecture_; }  // amd64, arm64
  const std::vector<std::string>& entrypoint() const { return entrypoint_; }

  // Runs the container to its end; the secret guard checks what it printed.
  ProcessResult run(const ContainerSpec& spec) const;

 private:
  std::string dir_;
  std::string architecture_;
  std::vector<std::string> entrypoint_;
};

}  // namespace fluxkey::testing
