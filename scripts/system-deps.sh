#!/usr/bin/env bash
# Debian packages nnlab needs outside Python: Pango/HarfBuzz for WeasyPrint (PDF), fonts that
# cover Vietnamese, poppler-utils (pdftoppm, pdfinfo), Chromium for looking at the output, and
# Node.js 18+ with npm for the browser test (tests/browser/axe.mjs; `make setup` runs npm ci).
# Installs them when run as root; otherwise prints the exact command and stops.
set -euo pipefail
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core
          poppler-utils chromium)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js from anywhere (Debian's, NodeSource's, nvm's) will do: asked for only when absent.
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
node_ok() {
    node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 18 ? 0 : 1)' 2>/dev/null || {
        echo "nnlab's browser test needs Node.js 18 or newer; found $(node --version)" >&2
        exit 1
    }
}
if [ ${#missing[@]} -eq 0 ]; then node_ok; exit 0; fi
if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fc-cache -f >/dev/null 2>&1 || true
    node_ok
else
    echo "nnlab needs these Debian packages; run as root:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi
