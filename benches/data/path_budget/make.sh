#!/bin/sh
# Regenerates the certificates of benches/benches/path_budget.rs (P-256, valid to 2126):
#   honest.pem  leaf, issuing CA, root: the ordinary 3-certificate chain (baseline)
#   attack.pem  a leaf issued by "CN=Loop CA" and 100 CA certificates "CN=Loop CA" issued by
#               "CN=Loop CA" with one key: no path to the root, every ordering a candidate
#   root.pem    the trust anchor of both
set -eu
cd "$(dirname "$0")"
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$t/$1.key" 2>/dev/null; }
ca_ext="basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign"
ee_ext="basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,nonRepudiation"
printf '%s\n' "$ca_ext" > "$t/ca.ext"
printf '%s\n' "$ee_ext" > "$t/ee.ext"
key root; key ca; key leaf; key loop; key bidder
openssl req -x509 -new -key "$t/root.key" -subj "/CN=Bench Root" -days 36500 -set_serial 1 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out root.pem
# issue SUBJECT_KEY SUBJECT ISSUER_CERT ISSUER_KEY EXTFILE SERIAL OUT
issue() {
  openssl req -new -key "$t/$1.key" -subj "$2" -out "$t/req.csr"
  openssl x509 -req -in "$t/req.csr" -CA "$3" -CAkey "$t/$4.key" -set_serial "$6" \
    -days 36500 -extfile "$t/$5" -out "$7" 2>/dev/null
}
issue ca "/CN=Bench Issuing CA" root.pem root ca.ext 2 "$t/ca.pem"
issue leaf "/CN=Bench Bidder" "$t/ca.pem" ca ee.ext 3 "$t/leaf.pem"
cat "$t/leaf.pem" "$t/ca.pem" root.pem > honest.pem
# The loop CA signs itself: a self-signed template, re-issued 100 times with new serials.
openssl req -x509 -new -key "$t/loop.key" -subj "/CN=Loop CA" -days 36500 -set_serial 100 \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -out "$t/loop.pem"
issue bidder "/CN=Bench Attacker" "$t/loop.pem" loop ee.ext 4 attack.pem
i=101
while [ $i -le 200 ]; do
  issue loop "/CN=Loop CA" "$t/loop.pem" loop ca.ext $i "$t/l.pem"
  cat "$t/l.pem" >> attack.pem
  i=$((i + 1))
done
