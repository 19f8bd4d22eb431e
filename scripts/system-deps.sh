#!/usr/bin/env bash
# Debian packages nnlab needs outside Python: Pango/HarfBuzz for WeasyPrint (PDF), fonts that
# cover Vietnamese, poppler-utils (pdftoppm, pdfinfo) and Chromium for looking at the output.
# Installs them when run as root; otherwise prints the exact command and stops.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core
          poppler-utils chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fc-cache -f >/dev/null 2>&1 || true
else
    echo "nnlab needs these Debian packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
