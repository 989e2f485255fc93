#include "support/image_run.h"

#include <doctest/doctest.h>
#include <sys/utsname.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "support/secret_guard.h"
#include "support/sim_process.h"

namespace fluxkey::testing {

namespace fs = std::filesystem;

namespace {

std::string machine_architecture() {
  utsname u{};
  uname(&u);
  const std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

// Appends to `argv` what lays out `host` (a folder of the image) at `at`.
void bind_image(std::vector<std::string>& argv, const fs::path& host, const std::string& at,
                const std::vector<std::string>& targets, bool read_only_root) {
  for (const auto& entry : fs::directory_iterator(host)) {
    const std::string name = at + "/" + entry.path().filename().string();
    const bool holds_target = std::any_of(targets.begin(), targets.end(),
                                          [&](const auto& t) { return t.starts_with(name + "/"); });
    if (entry.is_symlink()) {
      argv.insert(argv.end(), {"--symlink", fs::read_symlink(entry.path()).string(), name});
    } else if (name == "/tmp" && !read_only_root) {
      argv.insert(argv.end(), {"--tmpfs", "/tmp"});
    } else if (holds_target && entry.is_directory()) {
      argv.insert(argv.end(), {"--dir", name});
      bind_image(argv, entry.path(), name, targets, read_only_root);
    } else {
      argv.insert(argv.end(), {"--ro-bind", entry.path().string(), name});
    }
  }
}

}  // namespace

Image Image::from_env() {
  Image image;
  image.dir_ = binary_from_env("FLUXKEY_IMAGE");
  auto config = nlohmann::json::parse(read_text(image.dir_ + "/config.json"));
  image.architecture_ = config.at("architecture").get<std::string>();
  image.entrypoint_ = config.at("config").at("Entrypoint").get<std::vector<std::string>>();
  if (!fs::is_regular_file(image.rootfs() + image.entrypoint_.at(0))) {
    throw std::runtime_error(image.dir_ + ": the entry point is not in rootfs/");
  }
  return image;
}

ProcessResult Image::run(const ContainerSpec& spec) const {
  std::vector<std::string> argv = {"/usr/bin/bwrap", "--die-with-parent", "--unshare-pid",
                                   "--unshare-ipc",  "--unshare-uts",     "--new-session"};
  if (spec.uid != 0 || spec.gid != 0) {
    argv.insert(argv.end(), {"--unshare-user", "--uid", std::to_string(spec.uid), "--gid",
                             std::to_string(spec.gid)});
  }
  // The image's files on a fresh root, bound read-only: a folder that holds
  // a mount point is made anew and its entries bound one by one, since a
  // read-only copy of the image could not grow the mount point. The image's
  // own files are never written (a runner's container writes to a layer of
  // its own; fluxkey writes only where it is told to).
  std::vector<std::string> targets;
  for (const auto& m : spec.mounts) targets.push_back(m.container);
  if (architecture_ != machine_architecture()) targets.push_back("/.qemu");
  bind_image(argv, rootfs(), "", targets, spec.read_only_root);
  argv.insert(argv.end(), {"--proc", "/proc", "--dev", "/dev"});
  for (const auto& m : spec.mounts) {
    argv.insert(argv.end(), {m.writable ? "--bind" : "--ro-bind", m.host, m.container});
  }
  std::vector<std::string> command = entrypoint_;
  if (architecture_ != machine_architecture()) {
    const std::string qemu =
        "/usr/bin/qemu-" + std::string(architecture_ == "arm64" ? "aarch64" : "x86_64") + "-static";
    argv.insert(argv.end(), {"--ro-bind", qemu, "/.qemu"});
    command.insert(command.begin(), "/.qemu");
  }
  if (spec.read_only_root) argv.insert(argv.end(), {"--remount-ro", "/"});
  argv.insert(argv.end(), {"--chdir", spec.workdir, "--"});
  argv.insert(argv.end(), command.begin(), command.end());
  argv.insert(argv.end(), spec.args.begin(), spec.args.end());

  // The environment reaches bwrap's child as it is: secrets stay out of argv.
  ProcessSpec process;
  process.argv = argv;
  process.inherit_env = false;
  process.env_set = spec.env;
  process.timeout = spec.timeout;
  ProcessResult result = run_process(process);
  check_no_leaks(GuardedRun{argv, spec.env, &result, ""});
  return result;
}

}  // namespace fluxkey::testing
