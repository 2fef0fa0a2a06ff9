#!/usr/bin/env bash
# Makes a throwaway PKI for tests and the demo, with the openssl command line:
#   ca.pem / ca.key           the test CA
#   server.pem / server.key   signed by the CA, for localhost and 127.0.0.1
#   client.pem / client.key   signed by the CA, for mutual TLS
#   rogue-ca.pem              another CA, and rogue-server.pem / .key signed by it (a "bad" certificate)
# Usage: tools/make-test-certs.sh DIR   (keys are EC P-256; certificates valid for 2 days)
set -euo pipefail
dir=${1:?usage: make-test-certs.sh DIR}
mkdir -p "$dir"
cd "$dir"
days=2
ca() {  # name subject
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.pem" \
    -days $days -subj "/CN=$2" -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}
leaf() {  # name ca subject extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$1.key" -out "$1.csr" -subj "/CN=$3" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -out "$1.pem" -days $days -extfile "$1.ext" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}
ca ca "payswitch test CA"
ca rogue-ca "someone else's CA"
leaf server ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
leaf client ca "payswitch test client" "extendedKeyUsage=clientAuth"
leaf rogue-server rogue-ca localhost "subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth"
echo "test certificates in $dir"
