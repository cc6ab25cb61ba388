#!/usr/bin/env bash
# Installs the release build into a temporary prefix, then builds and runs a consumer with
# find_package(wharf) and one with pkg-config.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cmake --install "$root/build/release" --prefix "$tmp/prefix" >/dev/null
cmake -S "$root/tests/package" -B "$tmp/build" -G Ninja -DCMAKE_PREFIX_PATH="$tmp/prefix" >/dev/null
cmake --build "$tmp/build" >/dev/null
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/build/consumer"
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
    c++ -std=c++20 "$root/tests/package/main.cpp" -o "$tmp/consumer-pc" \
    $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs wharf)
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/consumer-pc"
echo "package: find_package and pkg-config consumers built and ran"
