# The fluxkey image: what the GitHub Action (action.yml) and the CronJob
# (k8s/) run. `./dev image` builds it for linux/amd64 and linux/arm64 and runs
# it as both; a release publishes those (README.md, "Releases").
#
# It lives at the repository root because the runner builds an action's
# Dockerfile with the Dockerfile's own folder as the build context, and the
# sources are here. That happens only for action.yml on main: a release's
# action.yml names the published image instead.

# The build stage only hosts the compiler; nothing of it ships but what
# image/build.sh lays out. ./dev image makes this base from Debian's
# archive with mmdebstrap (pinned by image/debian-snapshot) and names it so.
ARG BUILD_BASE=docker.io/library/debian:bookworm-slim

# Always on the machine's own platform: an arm64 image is cross-compiled, so
# no stage runs under emulation.
FROM --platform=$BUILDPLATFORM ${BUILD_BASE} AS build
ARG TARGETARCH
WORKDIR /src
COPY image/deps.sh image/
RUN image/deps.sh install "${TARGETARCH:-$(dpkg --print-architecture)}"
# The image's own libcurl (image/deps.sh says why), before the sources: a
# change to fluxkey does not rebuild it.
RUN image/deps.sh curl "${TARGETARCH:-$(dpkg --print-architecture)}"
COPY meson.build meson_options.txt ./
COPY pch/ pch/
COPY src/ src/
COPY image/build.sh image/
# What `fluxkey version` reports; ./dev image passes them from git (the
# context has no .git).
ARG FLUXKEY_VERSION= FLUXKEY_COMMIT= SOURCE_DATE_EPOCH=
RUN FLUXKEY_VERSION="$FLUXKEY_VERSION" FLUXKEY_COMMIT="$FLUXKEY_COMMIT" \
    SOURCE_DATE_EPOCH="$SOURCE_DATE_EPOCH" \
    image/build.sh build "${TARGETARCH:-$(dpkg --print-architecture)}" /rootfs

# No shell, no package manager: fluxkey, the libraries it loads, CA roots,
# /etc/passwd. No USER: GitHub runs a Docker action as the image's user, and
# only root can write the runner-owned files behind $GITHUB_OUTPUT and
# $GITHUB_STEP_SUMMARY. The CronJob's pod runs it as 65532 (k8s/cronjob.yaml).
FROM scratch
COPY --from=build /rootfs/ /
ARG FLUXKEY_VERSION= FLUXKEY_COMMIT= FLUXKEY_IMAGE_SOURCE=
LABEL org.opencontainers.image.title="fluxkey" \
      org.opencontainers.image.description="Short-lived kubeconfigs for Flux in GitHub Actions" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${FLUXKEY_VERSION}" \
      org.opencontainers.image.revision="${FLUXKEY_COMMIT}" \
      org.opencontainers.image.source="${FLUXKEY_IMAGE_SOURCE}"
ENTRYPOINT ["/usr/local/bin/fluxkey"]
