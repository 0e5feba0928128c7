#!/usr/bin/env bash
# Builds the GmSSL 3.1.1 command-line tool (`gmssl`), an independent SM2/SM3/SM4 and GM/T 0010
# implementation that the interop tests (tests/tests/gmssl.rs) check camr against.
#
# The C sources come from the crates.io package `gmssl-rs-sys` 0.1.0, which ships them in its
# `GmSSL/` folder; the package is fetched with cargo in a throw-away project (it is NOT a
# dependency of the workspace). The binary is installed to target/tools/gmssl (ignored by git);
# tests find it there, or wherever $CAMR_GMSSL points.
#
# Idempotent: does nothing when target/tools/gmssl exists and `gmssl version` runs.
# Quiet: prints a few lines on success; on failure prints the tail of the build log.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
dest_dir="$root/target/tools"
dest="$dest_dir/gmssl"
crate="gmssl-rs-sys"
version="0.1.0"
start=$SECONDS

if [ -x "$dest" ] && "$dest" version >/dev/null 2>&1; then
  echo "build-gmssl: $dest already built ($("$dest" version 2>/dev/null | head -n1))"
  exit 0
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/camr-gmssl.XXXXXX")"
log="$work/build.log"
cleanup() { rm -rf "$work"; }
fail() {
  echo "build-gmssl: FAILED: $*" >&2
  if [ -s "$log" ]; then
    echo "build-gmssl: last lines of the log:" >&2
    tail -n 40 "$log" >&2
  fi
  cleanup
  exit 1
}
trap 'fail "command failed on line $LINENO"' ERR
trap cleanup EXIT

# --- tools: cmake, make and a C compiler (Debian packages) ------------------------------------
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v make >/dev/null 2>&1 || need+=(make)
command -v cc >/dev/null 2>&1 || need+=(gcc)
if [ "${#need[@]}" -gt 0 ]; then
  echo "build-gmssl: installing ${need[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >>"$log" 2>&1; then
    apt-get update -qq >>"$log" 2>&1 || fail "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >>"$log" 2>&1 \
      || fail "apt-get install ${need[*]}"
  fi
fi

# --- sources: fetch the crate through cargo in a throw-away project --------------------------
mkdir -p "$work/fetch/src"
cat >"$work/fetch/Cargo.toml" <<TOML
[package]
name = "camr-gmssl-fetch"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
$crate = "=$version"

[workspace]
TOML
echo 'fn main() {}' >"$work/fetch/src/main.rs"
(cd "$work/fetch" && cargo fetch --quiet) >>"$log" 2>&1 || fail "cargo fetch of $crate $version"

cargo_home="${CARGO_HOME:-$HOME/.cargo}"
src=""
for d in "$cargo_home"/registry/src/*/"$crate-$version"; do
  if [ -f "$d/GmSSL/CMakeLists.txt" ]; then src="$d/GmSSL"; break; fi
done
if [ -z "$src" ]; then
  # Not unpacked by `cargo fetch`: unpack the downloaded .crate (a .tar.gz) ourselves.
  for f in "$cargo_home"/registry/cache/*/"$crate-$version.crate"; do
    if [ -f "$f" ]; then
      tar -xzf "$f" -C "$work" >>"$log" 2>&1
      src="$work/$crate-$version/GmSSL"
      break
    fi
  done
fi
[ -n "$src" ] && [ -f "$src/CMakeLists.txt" ] || fail "no GmSSL sources found in $crate $version"

# --- build (static, release) and install -----------------------------------------------------
# Build from a private copy: the registry's source folder is shared and must stay untouched.
cp -R "$src" "$work/GmSSL"
{
  cmake -S "$work/GmSSL" -B "$work/build" -DBUILD_SHARED_LIBS=OFF -DCMAKE_BUILD_TYPE=Release
  make -C "$work/build" -j2 gmssl-bin
} >>"$log" 2>&1 || fail "cmake/make of GmSSL"

bin="$work/build/bin/gmssl"
[ -x "$bin" ] || bin="$(find "$work/build" -type f -name gmssl -perm -u+x | head -n1)"
[ -n "$bin" ] && [ -x "$bin" ] || fail "built, but no gmssl binary found"
mkdir -p "$dest_dir"
install -m 0755 "$bin" "$dest.tmp.$$"
mv -f "$dest.tmp.$$" "$dest"
"$dest" version >/dev/null 2>&1 || fail "installed $dest does not run"

echo "build-gmssl: built $("$dest" version 2>/dev/null | head -n1) -> $dest in $((SECONDS - start)) s"
