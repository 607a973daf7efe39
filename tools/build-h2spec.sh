#!/bin/bash
# Builds h2spec, the HTTP/2 conformance suite, and prints the binary's path; the build is cached.
# The suite's source is the vendored copy beside the checkout (../shared/vendor/h2spec, or $H2SPEC_SOURCE);
# its command is ours (tools/h2spec/main.go). Debian's Go toolchain and Go library packages build it, no
# network but the Debian mirror. ../shared/tools/build-h2spec.sh installs the same packages.
#   h2spec=$(tools/build-h2spec.sh) && "$h2spec" -S -h 127.0.0.1 -p 8000
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
out=${H2SPEC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/asgicy-h2spec}
if [ -x "$out/h2spec" ]; then echo "$out/h2spec"; exit 0; fi
src=${H2SPEC_SOURCE:-}
for candidate in "$here/../../shared/vendor/h2spec" /work/shared/vendor/h2spec; do
  if [ -z "$src" ] && [ -f "$candidate/h2spec.go" ]; then src=$candidate; fi
done
if [ -z "$src" ]; then echo "h2spec source not found (set H2SPEC_SOURCE)" >&2; exit 3; fi
pkgs="golang-go golang-github-fatih-color-dev golang-golang-x-net-dev golang-github-mattn-go-colorable-dev
      golang-github-mattn-go-isatty-dev golang-golang-x-sys-dev"
missing=$(for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
if [ -n "$missing" ]; then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo -n"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q >&2
  $SUDO apt-get install -y -q --no-install-recommends $missing >&2
fi
gopath=$(mktemp -d)
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/github.com/summerwind" "$out"
cp -r "$src" "$gopath/src/github.com/summerwind/h2spec"
mkdir -p "$gopath/src/github.com/summerwind/h2spec/cmd/asgicy-h2spec"
cp "$here/h2spec/main.go" "$gopath/src/github.com/summerwind/h2spec/cmd/asgicy-h2spec/"
(cd "$gopath/src/github.com/summerwind/h2spec" && GOPATH="$gopath:/usr/share/gocode" GO111MODULE=off GOFLAGS= \
  GOCACHE="$gopath/cache" go build -o "$out/h2spec" ./cmd/asgicy-h2spec) >&2
echo "$out/h2spec"
