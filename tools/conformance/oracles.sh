#!/usr/bin/env bash
# Checks the conformance suites against tools nobody on the team wrote (/work/shared/peers/README.md):
#   (a) xmllint and the official XSDs (specs/iso20022/) validate every ISO 20022 document the suites
#       send and every document the switch answers to them (the ISO 20022 sessions replayed against
#       `payswitch serve` on conformance/switch.yaml, with `payswitch sim issuer --iso20022` as the bank);
#   (b) Wireshark's ISO 8583 dissector (tshark) decodes every frame the iso87ascii and iso93ascii
#       sessions send, with no malformed packet or expert warning, each field equal to the capture's,
#       and the wire of those sessions replayed through the switch (`replay --pcap`), its answers too;
#   (c) jsonschema validates every capture against conformance/capture.schema.json.
# Prints the counts (documents validated, frames compared, fields compared, mismatches) and exits
# non-zero on any failure. Card data is masked in everything it prints.
#
#   tools/conformance/oracles.sh                    # after `swift build`
#   PAYSWITCH_BIN=/path/to/payswitch tools/conformance/oracles.sh
#
# Installs what is missing: libxml2-utils (xmllint) and tshark with apt-get, PyYAML and jsonschema with pip.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

bin="${PAYSWITCH_BIN:-.build/debug/payswitch}"
if [[ ! -x "$bin" ]]; then
    echo "oracles.sh: no payswitch binary at '$bin' (build it with 'swift build', or set PAYSWITCH_BIN)" >&2
    exit 2
fi

sudo=""
if [[ $(id -u) -ne 0 ]] && command -v sudo >/dev/null; then sudo="sudo"; fi
apt_updated=""
apt_install() {
    if [[ -z "$apt_updated" ]]; then $sudo apt-get update -qq >/dev/null; apt_updated=1; fi
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
if ! command -v xmllint >/dev/null; then
    echo "oracles.sh: installing libxml2-utils (xmllint)"
    apt_install libxml2-utils
fi
if ! command -v tshark >/dev/null; then
    echo "oracles.sh: installing tshark"
    echo "wireshark-common wireshark-common/install-setuid boolean false" | $sudo debconf-set-selections
    apt_install tshark
fi
for module in yaml jsonschema; do
    if ! python3 -c "import $module" 2>/dev/null; then
        package=$([[ $module == yaml ]] && echo pyyaml || echo jsonschema)
        echo "oracles.sh: installing $package"
        python3 -m pip install --quiet "$package" 2>/dev/null || python3 -m pip install --quiet --break-system-packages "$package"
    fi
done

# (c) Every capture, and the suites' switch configuration, against their JSON Schemas (a schema
#     checker nobody here wrote reading the same files the switch reads).
mapfile -t captures < <(find conformance -name '*.capture.yaml' | sort)
python3 tools/check-switch-schema.py --schema conformance/capture.schema.json "${captures[@]}" >/dev/null \
    || { python3 tools/check-switch-schema.py --schema conformance/capture.schema.json "${captures[@]}" | grep -v ': ok$'; exit 1; }
python3 tools/check-switch-schema.py conformance/switch.yaml >/dev/null
echo "oracles.sh: ${#captures[@]} captures and conformance/switch.yaml valid against their JSON Schemas"

exec python3 tools/conformance/oracles.py "$bin"
