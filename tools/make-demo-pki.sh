#!/usr/bin/env bash
# Makes the demo-only PKI that `payswitch demo` embeds for its mutual TLS link to issuer A:
#   demo-ca.pem                        the demo CA
#   demo-issuer.pem / demo-issuer.key  issuer A's server certificate, for localhost and 127.0.0.1
#   demo-switch.pem / demo-switch.key  the switch's client certificate
# Run once; the output is committed in Sources/payswitch/DemoPKI. These keys are public (they are in
# this repository): they secure nothing and must never be trusted outside the demo. Valid from 2000 to
# 2099, so the demo works whatever a machine's clock says; EC P-256. Needs the openssl command line
# (the demo itself does not).
# Usage: tools/make-demo-pki.sh [DIR]   (default Sources/payswitch/DemoPKI)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${1:-Sources/payswitch/DemoPKI}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
label='# DEMO ONLY: a public test key/certificate of the payswitch demo (tools/make-demo-pki.sh).
# It is published in the payswitch repository; never trust it or use it for anything real.'
cd "$work"
touch index.txt
cat > ca.cnf <<'CNF'
[ca]
default_ca = demo
[demo]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = any
unique_subject = no
copy_extensions = none
[any]
commonName = supplied
[v3_ca]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[v3_server]
basicConstraints = CA:FALSE
subjectAltName = DNS:localhost,IP:127.0.0.1
extendedKeyUsage = serverAuth
authorityKeyIdentifier = keyid
[v3_client]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
authorityKeyIdentifier = keyid
CNF
echo 01 > serial
sign() {  # name subject extensions [-selfsign]
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$2" 2>/dev/null
  local key=ca.key cert=(-cert ca.pem)
  if [ "${4:-}" = -selfsign ]; then key=$1.key; cert=(-selfsign); fi
  openssl ca -batch -config ca.cnf -notext -startdate 20000101000000Z -enddate 20991231235959Z \
    -extensions "$3" -keyfile "$key" "${cert[@]}" -in "$1.csr" -out "$1.pem" 2>/dev/null
}
sign ca "payswitch demo CA (DEMO ONLY)" v3_ca -selfsign
sign issuer "localhost (payswitch demo issuer, DEMO ONLY)" v3_server
sign switch "payswitch demo switch (DEMO ONLY)" v3_client
cd - >/dev/null
mkdir -p "$dir"
# The CA's key is not kept: nothing more is ever signed with it.
for name in ca.pem issuer.pem issuer.key switch.pem switch.key; do
  { printf '%s\n' "$label"; cat "$work/$name"; } > "$dir/demo-$name"
done
echo "demo PKI in $dir"
