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
# The C API from an installed prefix: examples/hello.c compiled as C11 with pkg-config, run
# on a free port, asked once.
PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" \
    cc -std=c11 -Wall -Wextra -Werror -pedantic "$root/examples/hello.c" -o "$tmp/hello-c" \
    $(PKG_CONFIG_PATH="$tmp/prefix/lib/pkgconfig" pkg-config --cflags --libs wharf) -lpthread
LD_LIBRARY_PATH="$tmp/prefix/lib" "$tmp/hello-c" 127.0.0.1:0 >"$tmp/hello-c.out" &
hello_pid=$!
for _ in $(seq 100); do grep -q "serving on port" "$tmp/hello-c.out" 2>/dev/null && break; sleep 0.1; done
port=$(awk '/serving on port/ { print $4 }' "$tmp/hello-c.out")
answer=$(curl -sS "http://127.0.0.1:$port/hello/package")
kill -TERM "$hello_pid"
wait "$hello_pid"
[ "$answer" = "Hello, package!" ] || { echo "package: the C example answered '$answer'" >&2; exit 1; }
echo "package: find_package, pkg-config and C consumers built and ran"
