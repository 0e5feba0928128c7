#!/usr/bin/env bash
# Seals a PAGES-page PDF of about SIZE_MB MiB (default 200 pages, 50 MiB; `cargo xtask big-pdf`)
# on every page with the release `camr` binary, once with an SM2 and once with an RSA wallet,
# verifies each result, and prints wall time and peak RSS (GNU time) of every step.
#   benches/pdf-seal-rss.sh
#   PAGES=20 SIZE_MB=5 benches/pdf-seal-rss.sh
#   KEEP=/tmp/pdfbench benches/pdf-seal-rss.sh     # keep the files there
# Needs /usr/bin/time (Debian: apt-get install -y time).
set -euo pipefail
cd "$(dirname "$0")/.."
PAGES="${PAGES:-200}"
SIZE_MB="${SIZE_MB:-50}"
TIME=/usr/bin/time
[ -x "$TIME" ] || { echo "error: $TIME not found (apt-get install -y time)" >&2; exit 2; }
cargo build -q --release -p camr-cli
cargo build -q --release -p camr-xtask
TARGET="${CARGO_TARGET_DIR:-target}/release"
CAMR="$TARGET/camr"
if [ -n "${KEEP:-}" ]; then
  WORK="$KEEP"; mkdir -p "$WORK"
else
  WORK="$(mktemp -d)"; trap 'rm -rf "$WORK"' EXIT
fi
"$TARGET/camr-xtask" big-pdf --pages "$PAGES" --mb "$SIZE_MB" --out "$WORK/big.pdf"
size=$(stat -c %s "$WORK/big.pdf")

measure() { # runs the command under GNU time; prints "seconds maxrss_kib exit_status"
  local out="$1"; shift
  local st=0
  "$TIME" -v -o "$WORK/time.txt" "$@" >"$out" 2>"$out.err" || st=$?
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$WORK/time.txt" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$WORK/time.txt")
  echo "$wall $rss $st"
}

mib() { awk -v b="$1" 'BEGIN{printf "%.1f", b/1048576}'; }

echo "input: $PAGES pages, $size bytes ($(mib "$size") MiB)"
echo
echo "| step ($PAGES pages, $(mib "$size") MiB) | wall time | peak RSS | RSS / file size | result |"
echo "|---|---|---|---|---|"
fail=0
for alg in sm2 rsa; do
  rm -rf "$WORK/ca-$alg" "$WORK/w-$alg"
  { "$CAMR" ca init --dir "$WORK/ca-$alg" --alg "$alg" &&
    "$CAMR" ca issue --dir "$WORK/ca-$alg" --type org --name 张三 --org 某某建设有限公司 \
      --uscc 91350100M000100Y43 --pin 123456 --out "$WORK/w-$alg"; } >/dev/null 2>"$WORK/ca.err" ||
    { cat "$WORK/ca.err" >&2; exit 2; }
  read -r s r st < <(measure "$WORK/seal-$alg.out" "$CAMR" pdf seal --in "$WORK/big.pdf" \
    --out "$WORK/sealed-$alg.pdf" --wallet "$WORK/w-$alg" --pin 123456 \
    --every-page --x 480 --y 40 --width 72)
  result="exit $st"
  [ "$st" = 0 ] || { fail=1; result="FAILED (exit $st): $(head -c 300 "$WORK/seal-$alg.out.err")"; }
  awk -v a="$alg" -v s="$s" -v r="$r" -v f="$size" -v res="$result" \
    'BEGIN{printf "| seal every page, %s | %.2f s | %.1f MiB | %.2f× | %s |\n", a, s, r/1024, r*1024/f, res}'
  [ "$st" = 0 ] || continue
  sealed=$(stat -c %s "$WORK/sealed-$alg.pdf")
  read -r s r st < <(measure "$WORK/verify-$alg.out" "$CAMR" pdf verify "$WORK/sealed-$alg.pdf" \
    --trust "$WORK/ca-$alg/root-cert.pem")
  widgets=$(grep -c '^  page ' "$WORK/verify-$alg.out" || true)
  if [ "$st" = 0 ] && grep -q '\[VALID\]' "$WORK/verify-$alg.out" && ! grep -q 'INVALID' "$WORK/verify-$alg.out"; then
    result="valid, $widgets widgets"
  else
    fail=1; result="NOT VALID (exit $st): $(head -c 300 "$WORK/verify-$alg.out" "$WORK/verify-$alg.out.err" | tr '\n' ' ')"
  fi
  awk -v a="$alg" -v s="$s" -v r="$r" -v f="$sealed" -v res="$result" \
    'BEGIN{printf "| verify, %s | %.2f s | %.1f MiB | %.2f× | %s |\n", a, s, r/1024, r*1024/f, res}'
done
echo
echo "sealed file: +$(( $(stat -c %s "$WORK/sealed-sm2.pdf" 2>/dev/null || echo "$size") - size )) bytes (SM2)," \
  "+$(( $(stat -c %s "$WORK/sealed-rsa.pdf" 2>/dev/null || echo "$size") - size )) bytes (RSA)"
exit "$fail"
