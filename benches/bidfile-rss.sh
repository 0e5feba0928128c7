#!/usr/bin/env bash
# Seals and opens a bid file of SIZE_MIB MiB (default 1024) with the release `camr` binary
# and prints wall time and peak RSS of each step, and whether the round trip is exact.
#   benches/bidfile-rss.sh            # 1 GiB
#   SIZE_MIB=256 benches/bidfile-rss.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MIB="${SIZE_MIB:-1024}"
cargo build -q --release -p camr-cli
CAMR="${CARGO_TARGET_DIR:-target}/release/camr"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$CAMR" ca init --dir "$WORK/ca" --alg sm2 2>/dev/null
"$CAMR" ca issue --dir "$WORK/ca" --type personal --name bidder --pin 123456 --out "$WORK/w" 2>/dev/null
head -c "$((SIZE_MIB * 1024 * 1024))" /dev/urandom > "$WORK/bid.bin"
measure() { # prints "seconds maxrss_kib" of the command
  python3 - "$@" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
print(f"{time.monotonic() - t:.1f} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}")
PY
}
read -r seal_s seal_rss < <(measure "$CAMR" envelope seal --to "$WORK/w/enc-cert.pem" --in "$WORK/bid.bin" --out "$WORK/bid.env")
read -r open_s open_rss < <(measure "$CAMR" envelope open --wallet "$WORK/w" --pin 123456 --in "$WORK/bid.env" --out "$WORK/bid.out")
same=no; cmp -s "$WORK/bid.bin" "$WORK/bid.out" && same=yes
echo "| step (${SIZE_MIB} MiB, SM2 recipient, SM4-GCM chunks) | wall time | MB/s | peak RSS |"
echo "|---|---|---|---|"
awk -v s="$seal_s" -v r="$seal_rss" -v m="$SIZE_MIB" 'BEGIN{printf "| seal | %.1f s | %.0f | %.1f MiB |\n", s, m*1.048576/s, r/1024}'
awk -v s="$open_s" -v r="$open_rss" -v m="$SIZE_MIB" 'BEGIN{printf "| open | %.1f s | %.0f | %.1f MiB |\n", s, m*1.048576/s, r/1024}'
echo "round trip exact: $same"
