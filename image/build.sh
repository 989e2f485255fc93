#!/usr/bin/env bash
# The image's build stage, part two (Dockerfile): fluxkey built for the
# target and the runtime image's whole file system laid out. image/deps.sh
# installed what it needs. ./dev reads the meson options from here too.
#
#   image/build.sh options         meson options of a shipped build
#   image/build.sh build ARCH DIR  build fluxkey for ARCH (amd64, arm64) from the tree
#                                  here and lay out the runtime image in DIR
#
# The runtime image is `FROM scratch`: the binary, exactly the shared
# libraries it loads (found by reading the ELF files, so nothing unused comes
# along: glibc, since libcurl and the rest are linked in), the CA roots, the
# users, and Debian's package records of what is inside, so that SBOM and
# vulnerability scanners see the same packages a Debian image would show them.
set -euo pipefail

# fluxkey alone, -O2, without debug info (the stripped binary has none anyway).
# -O2 is what ./dev test compiles with -Werror, so every test run proves the
# shipped compile is clean; GCC 12 at -O3 reports false -Wrestrict positives
# inside std::string.
OPTIONS=(-Doptimization=2 -Ddebug=false -Dtests=false)

# multiarch ARCH: Debian's name for ARCH's library folders and tools
# (aarch64-linux-gnu for arm64).
multiarch() { dpkg-architecture --host-arch "$1" --query DEB_HOST_MULTIARCH 2>/dev/null; }

# cross_file ARCH: meson's description of the target, for a foreign ARCH.
cross_file() {
  local t
  t=$(multiarch "$1")
  local cpu=${t%%-*}
  cat <<EOF
[binaries]
cpp = '$t-g++'
ar = '$t-ar'
strip = '$t-strip'
pkgconfig = 'pkg-config'

[properties]
pkg_config_libdir = ['/opt/curl/lib/pkgconfig', '/usr/lib/$t/pkgconfig', '/usr/share/pkgconfig']

[host_machine]
system = 'linux'
cpu_family = '$cpu'
cpu = '$cpu'
endian = 'little'
EOF
}

# needed FILE: the sonames FILE loads directly.
needed() { readelf --dynamic "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'; }

# find_library TRIPLET SONAME: where the target's loader would find SONAME.
find_library() {
  local dir
  for dir in "/lib/$1" "/usr/lib/$1"; do
    if [ -e "$dir/$2" ]; then
      echo "$dir/$2"
      return
    fi
  done
  echo "image/build.sh: $2 is needed but not installed for $1" >&2
  exit 1
}

# owner PATH: the package that installed PATH. dpkg knows each file by the
# path its package ships, which on a merged /usr may be the other of /lib and
# /usr/lib.
owner() {
  local other=${1#/usr}
  [ "$other" = "$1" ] && other=/usr$1
  { dpkg-query --search "$1" 2>/dev/null || dpkg-query --search "$other"; } | head -1 | sed 's/: .*//'
}

# record PACKAGE ROOT: Debian's record of PACKAGE, where distroless images
# keep theirs, so that scanners know the image's packages and versions.
record() {
  local name=${1%%:*}
  mkdir -p "$2/var/lib/dpkg/status.d"
  dpkg-query --status "$1" | grep -v -E '^(Conffiles|Config-Version):|^ /' \
    >"$2/var/lib/dpkg/status.d/$name"
}

build() {
  local arch=$1 root=$2 native t
  native=$(dpkg --print-architecture)
  t=$(multiarch "$arch")
  local setup=(meson setup build-release "${OPTIONS[@]}" -Dcurl_static=true)
  [ -n "${FLUXKEY_VERSION:-}" ] && setup+=("-Dbuild_version=$FLUXKEY_VERSION")
  [ -n "${FLUXKEY_COMMIT:-}" ] && setup+=("-Dbuild_commit=$FLUXKEY_COMMIT")
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
    setup+=("-Dbuild_date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)")
  fi
  if [ "$arch" != "$native" ]; then
    cross_file "$arch" >cross.ini
    setup+=(--cross-file cross.ini)
  fi
  PKG_CONFIG_PATH=/opt/curl/lib/pkgconfig "${setup[@]}"
  ninja -C build-release fluxkey

  mkdir -p "$root/usr/local/bin" "$root/etc/ssl/certs"
  "$t-strip" -o "$root/usr/local/bin/fluxkey" build-release/fluxkey
  # The loader, at the path the binary names.
  local interp
  interp=$(readelf --program-headers build-release/fluxkey |
    sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  mkdir -p "$root$(dirname "$interp")"
  cp -L "$interp" "$root$interp" 2>/dev/null || cp -L "/usr/lib/$t/$(basename "$interp")" "$root$interp"
  # Only what the loader loads, found the way it would (a breadth-first walk
  # of NEEDED); the real file under its soname, no symlinks. The loader
  # itself, which libc names too, is in place already.
  local queue=("$root/usr/local/bin/fluxkey") seen file lib path packages=()
  seen=" $(basename "$interp") "
  while ((${#queue[@]})); do
    file=${queue[0]}
    queue=("${queue[@]:1}")
    for lib in $(needed "$file"); do
      [[ $seen == *" $lib "* ]] && continue
      seen+="$lib "
      path=$(find_library "$t" "$lib")
      mkdir -p "$root/usr/lib/$t"
      cp -L "$path" "$root/usr/lib/$t/$lib"
      queue+=("$root/usr/lib/$t/$lib")
      packages+=("$(owner "$path")")
    done
  done
  # What is linked in ships too, so its packages are recorded with the
  # rest: libstdc++ and libgcc, libsodium, yaml-cpp (meson.build), OpenSSL,
  # nghttp2 and zlib (with libcurl), as image/deps.sh named them. libcurl
  # itself was built from Debian's source package: its record says so, with
  # the version of that source, which is what scanners match Debian's
  # security tracker against.
  mapfile -t -O "${#packages[@]}" packages </usr/local/share/fluxkey-image/linked-packages
  packages+=(ca-certificates)
  local p
  for p in $(printf '%s\n' "${packages[@]}" | sort -u); do record "$p" "$root"; done
  printf '%s\n' "Package: libcurl4" "Source: curl" "Version: $(cat /opt/curl/debian-version)" \
    "Status: install ok installed" "Architecture: $arch" "Maintainer: fluxkey (image/build.sh)" \
    "Description: libcurl, built from Debian's curl source package and linked into fluxkey" \
    >"$root/var/lib/dpkg/status.d/libcurl4"

  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
  # 65532 is the CronJob's user (k8s/cronjob.yaml); root is who a runner
  # runs a Docker action as. Neither has a shell: the image has none.
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  # glibc's default without this file asks DNS before /etc/hosts.
  echo 'hosts: files dns' >"$root/etc/nsswitch.conf"
  mkdir -p "$root/tmp" "$root/root" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root" "$root/home/nonroot"
  chown 65532:65532 "$root/home/nonroot"
}

cmd=${1:-}
case "$cmd" in
  options) printf '%s\n' "${OPTIONS[@]}" ;;
  build) build "${2:?usage: image/build.sh build ARCH DIR}" "${3:?usage: image/build.sh build ARCH DIR}" ;;
  *) sed -n '6,8p' "$0" | sed 's/^# \{0,1\}//' >&2 && exit 2 ;;
esac
