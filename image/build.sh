#!/usr/bin/env bash
# The image's build stage (Dockerfile), and the one list of what builds
# fluxkey: ./dev reads its packages and meson options from here too.
#
#   image/build.sh packages        the Debian packages that build fluxkey natively
#   image/build.sh options         meson options of a shipped build
#   image/build.sh install ARCH    install what builds the image's fluxkey for ARCH (amd64,
#                                  arm64) on this Debian, natively or cross, and curl's source
#   image/build.sh curl ARCH       build the image's libcurl for ARCH into /opt/curl
#   image/build.sh build ARCH DIR  build fluxkey for ARCH from the tree here and lay
#                                  out the runtime image's whole file system in DIR
#
# The runtime image is `FROM scratch`: the binary, exactly the shared
# libraries it loads (found by reading the ELF files, so nothing unused comes
# along), the CA roots, the users, and Debian's package records of what is
# inside, so that SBOM and vulnerability scanners see the same packages a
# Debian image would show them.
#
# Its libcurl is its own: Debian's curl source package (Debian's patches
# with it, pinned with the rest by the archive snapshot), built for HTTP and
# HTTPS with OpenSSL and nghttp2 alone and linked in statically, with
# OpenSSL, nghttp2 and zlib. Debian's libcurl4 loads some thirty libraries
# (GnuTLS, Kerberos, LDAP, RTMP, SSH, ...) for protocols fluxkey never
# speaks; the image would be twice the size with them, and scanners would
# report their every flaw. What the binary still loads is glibc.
set -euo pipefail

# Tools that run on the build machine, then the libraries, built for the target.
TOOLS=(g++ meson ninja-build pkg-config ca-certificates)
HEADERS=(nlohmann-json3-dev libcli11-dev)
LIBRARIES=(libcurl4-openssl-dev libsodium-dev libyaml-cpp-dev libssl-dev)
# The image's build replaces Debian's libcurl with its own, built from
# source: autotools and dpkg-source for that, and libcurl's own libraries.
IMAGE_TOOLS=(gcc make autoconf automake libtool dpkg-dev)
IMAGE_LIBRARIES=(libsodium-dev libyaml-cpp-dev libssl-dev libnghttp2-dev zlib1g-dev)
# HTTP and HTTPS, over HTTP/1.1 and HTTP/2, the system's CA roots; every
# other protocol, and the libraries they need, left out.
CURL_OPTIONS=(
  --disable-shared --enable-static --with-pic --enable-symbol-hiding --disable-dependency-tracking
  --with-openssl --with-nghttp2 --with-zlib
  --with-ca-bundle=/etc/ssl/certs/ca-certificates.crt --with-ca-path=/etc/ssl/certs
  --without-libpsl --without-libidn2 --without-librtmp --without-libssh2 --without-libssh
  --without-zstd --without-brotli --without-gssapi --without-libgsasl
  --disable-ldap --disable-ldaps --disable-rtsp --disable-dict --disable-telnet --disable-tftp
  --disable-pop3 --disable-imap --disable-smb --disable-smtp --disable-gopher --disable-mqtt
  --disable-ftp --disable-file --disable-manual --disable-ntlm --disable-ntlm-wb
)
# fluxkey alone, -O2, without debug info (the stripped binary has none anyway).
# -O2 is what ./dev test compiles with -Werror, so every test run proves the
# shipped compile is clean; GCC 12 at -O3 reports false -Wrestrict positives
# inside std::string.
OPTIONS=(-Doptimization=2 -Ddebug=false -Dtests=false)

triplet() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    *) echo "image/build.sh: unsupported architecture $1 (amd64 or arm64)" >&2 && exit 2 ;;
  esac
}

install() {
  local arch=$1 native
  native=$(dpkg --print-architecture)
  local packages=("${TOOLS[@]}" "${IMAGE_TOOLS[@]}" "${HEADERS[@]}")
  if [ "$arch" = "$native" ]; then
    packages+=("${IMAGE_LIBRARIES[@]}")
  else
    # libyaml-cpp-dev is not Multi-Arch, so the target's copy cannot sit
    # beside the build machine's; this stage builds for one target only, so
    # it never needs both.
    dpkg --add-architecture "$arch"
    local t
    t=$(triplet "$arch" | tr _ -)
    packages+=("gcc-$t" "g++-$t" "${IMAGE_LIBRARIES[@]/%/:$arch}")
  fi
  # curl's source from the same archive as the binary packages.
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -i 's/^Types: deb$/Types: deb deb-src/' /etc/apt/sources.list.d/debian.sources
  else
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list >/etc/apt/sources.list.d/deb-src.list
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${packages[@]}"
  mkdir -p /usr/src/curl
  (cd /usr/src/curl && apt-get source -qq curl 2>&1 | grep -v '^W: Download is performed unsandboxed')
  rm -rf /var/lib/apt/lists/*
}

# curl ARCH: the image's libcurl, static, into /opt/curl.
curl() {
  local arch=$1 native t
  native=$(dpkg --print-architecture)
  t=$(triplet "$arch")
  cd /usr/src/curl/curl-*/
  # Debian builds its OpenSSL flavour without its last two patches, which
  # turn the tree into the NSS and GnuTLS flavours.
  local patch
  for patch in 99_nss.patch 90_gnutls.patch; do
    [ "$(grep -v '^#' debian/patches/series | grep . | tail -1)" = "$patch" ] ||
      { echo "image/build.sh: curl's patch series no longer ends with $patch" >&2 && exit 1; }
    patch --quiet -R -p1 <"debian/patches/$patch"
    sed -i "/^$patch\$/d" debian/patches/series
  done
  autoreconf -fi >/dev/null 2>&1
  local host=()
  [ "$arch" != "$native" ] && host=(--host="$t")
  PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig \
    ./configure --quiet --prefix=/opt/curl "${host[@]}" "${CURL_OPTIONS[@]}"
  make --quiet -j"$(nproc)" -C lib install >/dev/null
  make --quiet -C include install >/dev/null
  make --quiet install-pkgconfigDATA >/dev/null
  dpkg-parsechangelog --show-field Version >/opt/curl/debian-version
}

# cross_file ARCH: meson's description of the target, for a foreign ARCH.
cross_file() {
  local t
  t=$(triplet "$1")
  local cpu=${t%%-*}
  cat <<EOF
[binaries]
cpp = '$t-g++'
ar = '$t-ar'
strip = '$t-strip'
pkg-config = 'pkg-config'

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
  dpkg-query --status "$1" | grep -v -E '^(Status|Conffiles|Config-Version):|^ /' \
    >"$2/var/lib/dpkg/status.d/$name"
}

build() {
  local arch=$1 root=$2 native t
  native=$(dpkg --print-architecture)
  t=$(triplet "$arch")
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
  # Only what the loader loads, found the way it would (a breadth-first walk
  # of NEEDED); the real file under its soname, no symlinks.
  local queue=("$root/usr/local/bin/fluxkey") seen=" " file lib path packages=()
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
  # The loader, at the path the binary names.
  local interp
  interp=$(readelf --program-headers build-release/fluxkey |
    sed -n 's/.*Requesting program interpreter: \(.*\)\]/\1/p')
  mkdir -p "$root$(dirname "$interp")"
  cp -L "$interp" "$root$interp" 2>/dev/null || cp -L "/usr/lib/$t/$(basename "$interp")" "$root$interp"

  # What is linked in ships too, so its packages are recorded with the
  # rest: libstdc++ and libgcc, libsodium, yaml-cpp (meson.build), OpenSSL,
  # nghttp2 and zlib (with libcurl). libcurl itself was built here from
  # Debian's source package: its record says so, with the version of that
  # source, which is what scanners match Debian's security tracker against.
  local suffix=""
  [ "$arch" != "$native" ] && suffix=":$arch"
  local gcc_major
  gcc_major=$("$t-g++" -dumpversion | cut -d. -f1)
  packages+=("libstdc++-$gcc_major-dev$suffix" "libgcc-$gcc_major-dev$suffix" ca-certificates
    "${IMAGE_LIBRARIES[@]/%/$suffix}")
  local p
  for p in $(printf '%s\n' "${packages[@]}" | sort -u); do record "$p" "$root"; done
  printf '%s\n' "Package: libcurl4" "Source: curl" "Version: $(cat /opt/curl/debian-version)" \
    "Architecture: $arch" "Maintainer: fluxkey (image/build.sh)" \
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
  packages) printf '%s\n' "${TOOLS[@]}" "${HEADERS[@]}" "${LIBRARIES[@]}" ;;
  options) printf '%s\n' "${OPTIONS[@]}" ;;
  install) install "${2:?usage: image/build.sh install ARCH}" ;;
  curl) curl "${2:?usage: image/build.sh curl ARCH}" ;;
  build) build "${2:?usage: image/build.sh build ARCH DIR}" "${3:?usage: image/build.sh build ARCH DIR}" ;;
  *) sed -n '5,10p' "$0" | sed 's/^# \{0,1\}//' >&2 && exit 2 ;;
esac
