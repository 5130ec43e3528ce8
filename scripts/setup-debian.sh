#!/usr/bin/env bash
# Installs what the engine needs on a CPU-only Debian bookworm machine (run as root; idempotent):
#  - Mesa >= 25 lavapipe (Vulkan on the CPU) from bookworm-backports: Dawn rejects bookworm's Mesa 22
#    ("Vulkan shaderUniform*ArrayDynamicIndexing required");
#  - Debian's Chromium for the browser tests and benchmarks (WebGPU through SwiftShader);
#  - Debian's python3-torch (CPU) and python3-numpy for the PyTorch interop tests (tests/interop/,
#    python/; without recommends, which would add a C++ tool chain).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
mesa_ok() { dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null | grep -Eq '^(2[5-9]|[3-9][0-9])\.'; }
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
if mesa_ok && have libvulkan1 && have chromium && have python3-torch && have python3-numpy; then echo "setup: nothing to do"; exit 0; fi
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
if [ "$codename" = bookworm ] && ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  # Same mirror as the configured bookworm suite (deb822 sources first, then a one-line sources.list).
  uri=$(awk '/^URIs:/{u=$2} /^Suites:/ && / bookworm( |$)/{if(u){print u; exit}}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [ -n "$uri" ] || uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [ -n "$uri" ] || uri=http://deb.debian.org/debian
  printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" | $SUDO tee /etc/apt/sources.list.d/backports.sources >/dev/null
fi
$SUDO apt-get update -qq
if [ "$codename" = bookworm ]; then
  mesa_ok || $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1
else
  mesa_ok || $SUDO apt-get install -y -qq mesa-vulkan-drivers libvulkan1
fi
have chromium || $SUDO apt-get install -y -qq chromium || $SUDO apt-get install -y -qq chromium-browser
{ have python3-torch && have python3-numpy; } || $SUDO apt-get install -y -qq --no-install-recommends python3-torch python3-numpy
mesa_ok || { echo "setup: Mesa < 25 installed; Dawn rejects older lavapipe. Install Mesa >= 25 (or use a real GPU driver)." >&2; exit 1; }
echo "setup: done"
