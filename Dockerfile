# The fluxkey image: the GitHub Action (action.yml builds it from this file)
# and the CronJob (k8s/) run the same binary.
#
# It lives at the repository root because the runner builds an action's
# Dockerfile with the Dockerfile's own folder as the build context, and the
# sources are here. Docker cannot run where fluxkey is developed, so every
# step below is one ./dev runs too, and a test (tests/integration/
# action_command_test.cc) keeps the package lists and build options equal
# to ./dev's.

FROM debian:bookworm AS build
# ./dev's BUILD_PACKAGES, exactly.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      g++ meson ninja-build pkg-config \
      libcurl4-openssl-dev libsodium-dev nlohmann-json3-dev libyaml-cpp-dev libssl-dev libcli11-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY meson.build meson_options.txt ./
COPY pch/ pch/
COPY src/ src/
# ./dev's RELEASE_OPTIONS: fluxkey alone, -O2, no debug info.
RUN meson setup build-release -Doptimization=2 -Ddebug=false -Dtests=false \
 && ninja -C build-release fluxkey

FROM debian:bookworm-slim
# What the binary still links dynamically (libstdc++, libsodium and yaml-cpp
# are inside it, see meson.build; libcurl4 brings its own dependencies) and
# the roots that TLS toward GitHub trusts. A test checks the list against the
# libraries fluxkey needs, both ways.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates libcurl4 libssl3 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/build-release/fluxkey /usr/local/bin/fluxkey
# No USER: GitHub runs a Docker action as the image's user, and only root can
# write the runner-owned files behind $GITHUB_OUTPUT and $GITHUB_STEP_SUMMARY.
# The CronJob's pod runs it as 65532 (runAsNonRoot, runAsUser in k8s/cronjob.yaml).
ENTRYPOINT ["/usr/local/bin/fluxkey"]
