#!/usr/bin/env bash
# Prints `openssl speed` figures for the primitives benchmarked in benches/, measured now on
# this machine, and the ratio table camr / OpenSSL built from the latest criterion results
# (target/criterion, written by `cargo bench -p camr-benches`). Paste the table into
# docs/performance.md.
#
#   cargo bench -p camr-benches && benches/compare-openssl.sh
#
# SECS=N sets how long OpenSSL measures each primitive (default 3).
set -euo pipefail
cd "$(dirname "$0")/.."
SECS="${SECS:-3}"
CRIT="${CARGO_TARGET_DIR:-target}/criterion"
command -v openssl >/dev/null || { echo "openssl not found (apt-get install openssl)" >&2; exit 2; }
[ -d "$CRIT" ] || { echo "no criterion results in $CRIT: run 'cargo bench -p camr-benches' first" >&2; exit 2; }

echo "# $(openssl version), ${SECS}s per primitive, $(nproc) cores, $(date -u +%F)" >&2
sm2_line=$(openssl speed -seconds "$SECS" sm2 2>/dev/null | grep -E 'SM2' | tail -n 1)
speed_1m() { # bytes per second of `openssl speed -evp ALG` on 1 MiB blocks
  openssl speed -seconds "$SECS" -bytes 1048576 -evp "$1" 2>/dev/null | tail -n 1 | awk '{v=$NF; sub(/k$/,"",v); printf "%.0f", v*1000}'
}
sm3_bps=$(speed_1m sm3)
sm4_bps=$(speed_1m sm4-cbc)
gcm_bps=$(speed_1m aes-256-gcm)
sm2_sign=$(echo "$sm2_line" | awk '{print $(NF-1)}')
sm2_verify=$(echo "$sm2_line" | awk '{print $NF}')
echo "openssl: sm2 sign/s=$sm2_sign verify/s=$sm2_verify sm3=${sm3_bps}B/s sm4-cbc=${sm4_bps}B/s aes-256-gcm=${gcm_bps}B/s" >&2

python3 - "$CRIT" "$sm2_sign" "$sm2_verify" "$sm3_bps" "$sm4_bps" "$gcm_bps" <<'PY'
import json, os, sys
crit, sm2_sign, sm2_verify, sm3, sm4, gcm = sys.argv[1], *map(float, sys.argv[2:])
def ns(group, bench):
    p = os.path.join(crit, group, bench, "new", "estimates.json")
    with open(p) as f:
        return json.load(f)["mean"]["point_estimate"]
MIB = 1024 * 1024
rows = []
def ops(label, group, bench, ossl):
    v = 1e9 / ns(group, bench)
    rows.append((label, f"{v:,.0f} /s", f"{ossl:,.0f} /s", v / ossl))
def thr(label, group, bench, ossl):
    v = MIB / (ns(group, bench) / 1e9)
    rows.append((label, f"{v/1e6:,.1f} MB/s", f"{ossl/1e6:,.1f} MB/s", v / ossl))
ops("SM2 sign", "sm2", "sign_camr", sm2_sign)
ops("SM2 verify", "sm2", "verify_camr", sm2_verify)
thr("SM3, 1 MiB", "sm3-1MiB", "camr", sm3)
thr("SM4-CBC encrypt, 1 MiB", "sm4-cbc-1MiB", "camr", sm4)
thr("AES-256-GCM seal, 1 MiB", "aes256-gcm-1MiB", "camr", gcm)
def thr8(label, bench, ossl):
    try:
        v = 8 * MIB / (ns("bidfile-8MiB", bench) / 1e9)
    except OSError:
        return
    rows.append((label, f"{v/1e6:,.1f} MB/s", f"{ossl/1e6:,.1f} MB/s (sm4-cbc)", v / ossl))
thr8("bid file seal (SM4-GCM chunks), 8 MiB", "seal-sm2", sm4)
thr8("bid file open (SM4-GCM chunks), 8 MiB", "open-sm2", sm4)
print("| primitive | camr | OpenSSL | camr / OpenSSL |")
print("|---|---|---|---|")
for r in rows:
    print(f"| {r[0]} | {r[1]} | {r[2]} | {r[3]:.2f}× |")
q = ns("qr-login-png", "camr-make-sign-render")
b = ns("qr-login-png", "bare-encode-render")
s = ns("qr-login-png", "camr-sign-only")
print()
print("| QR (login, 120-char request URI, SM2 key) | time |")
print("|---|---|")
print(f"| camr make + sign + encode + render PNG | {q/1e6:.2f} ms |")
print(f"| bare `qrcode` encode + render PNG of the same text | {b/1e6:.2f} ms |")
print(f"| of which camr's signature alone | {s/1e6:.2f} ms |")
print(f"| **ratio camr / bare** | **{q/b:.2f}×** |")
try:
    cold = ns("chain-validation-sm2", "cold")
    warm = ns("chain-validation-sm2", "cached")
    print()
    print("| SM2 chain validation (root → issuing CA → leaf) | time |")
    print("|---|---|")
    print(f"| cold (path building + 2 signature checks) | {cold/1e3:,.0f} µs |")
    print(f"| cached path (time, usage and revocation rechecked) | {warm/1e3:,.1f} µs |")
except OSError:
    pass
PY
