#!/usr/bin/env bash
# The image's build stage, part one (Dockerfile): what builds fluxkey, and
# the image's own libcurl. Apart from image/build.sh so that a change to how
# fluxkey is built or laid out leaves these layers cached.
#
#   image/deps.sh packages       the Debian packages that build fluxkey natively on
#                                Debian's libcurl (./dev installs these)
#   image/deps.sh install ARCH   install what builds the image's fluxkey for ARCH (amd64,
#                                arm64) on this Debian, natively or cross, and curl's source
#   image/deps.sh curl ARCH      build the image's libcurl for ARCH into /opt/curl
#
# The image's libcurl is its own: Debian's curl source package (Debian's
# patches with it, pinned with the rest by the archive snapshot), built for
# HTTP and HTTPS with OpenSSL and nghttp2 alone and linked in statically,
# with OpenSSL, nghttp2 and zlib. Debian's libcurl4 loads some thirty
# libraries (GnuTLS, Kerberos, LDAP, RTMP, SSH, ...) for protocols fluxkey
# never speaks; the image would be twice the size with them, and scanners
# would report their every flaw.
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

triplet() {
  case "$1" in
    amd64) echo x86_64-linux-gnu ;;
    arm64) echo aarch64-linux-gnu ;;
    *) echo "image/deps.sh: unsupported architecture $1 (amd64 or arm64)" >&2 && exit 2 ;;
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
  # What the image's fluxkey links in ships too: image/build.sh records
  # these packages in the image, with glibc's.
  local gcc_major static
  gcc_major=$(g++ -dumpversion | cut -d. -f1)
  if [ "$arch" = "$native" ]; then
    static=("libstdc++-$gcc_major-dev" "libgcc-$gcc_major-dev" "${IMAGE_LIBRARIES[@]}")
  else
    static=("libstdc++-$gcc_major-dev-$arch-cross" "libgcc-$gcc_major-dev-$arch-cross"
      "${IMAGE_LIBRARIES[@]/%/:$arch}")
  fi
  mkdir -p /usr/local/share/fluxkey-image
  printf '%s\n' "${static[@]}" >/usr/local/share/fluxkey-image/linked-packages
  mkdir -p /usr/src/curl
  # apt warns that root downloads the source unsandboxed: it is this stage's only user.
  (cd /usr/src/curl && apt-get source -qq curl 2>&1 | { grep -v '^W: Download is performed unsandboxed' || true; })
  rm -rf /var/lib/apt/lists/*
}

# build_curl ARCH: the image's libcurl, static, into /opt/curl.
build_curl() {
  local arch=$1 native t
  native=$(dpkg --print-architecture)
  t=$(triplet "$arch")
  cd /usr/src/curl/curl-*/
  # Debian builds its OpenSSL flavour without its last two patches, which
  # turn the tree into the NSS and GnuTLS flavours.
  local patch
  for patch in 99_nss.patch 90_gnutls.patch; do
    [ "$(grep -v '^#' debian/patches/series | grep . | tail -1)" = "$patch" ] ||
      { echo "image/deps.sh: curl's patch series no longer ends with $patch" >&2 && exit 1; }
    patch --quiet -R -p1 <"debian/patches/$patch"
    sed -i "/^$patch\$/d" debian/patches/series
  done
  autoreconf -fi >/tmp/autoreconf.log 2>&1 || { cat /tmp/autoreconf.log >&2 && exit 1; }
  local host=()
  [ "$arch" != "$native" ] && host=(--host="$t")
  PKG_CONFIG_LIBDIR=/usr/lib/$t/pkgconfig:/usr/share/pkgconfig \
    ./configure --quiet --prefix=/opt/curl "${host[@]}" "${CURL_OPTIONS[@]}"
  make --quiet -j"$(nproc)" -C lib install >/dev/null
  make --quiet -C include install >/dev/null
  make --quiet install-pkgconfigDATA >/dev/null
  dpkg-parsechangelog --show-field Version >/opt/curl/debian-version
}

cmd=${1:-}
case "$cmd" in
  packages) printf '%s\n' "${TOOLS[@]}" "${HEADERS[@]}" "${LIBRARIES[@]}" ;;
  install) install "${2:?usage: image/deps.sh install ARCH}" ;;
  curl) build_curl "${2:?usage: image/deps.sh curl ARCH}" ;;
  *) sed -n '6,10p' "$0" | sed 's/^# \{0,1\}//' >&2 && exit 2 ;;
esac
