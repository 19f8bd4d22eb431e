#!/usr/bin/env bash
# The system packages nnlab needs outside Python: Pango/HarfBuzz for WeasyPrint (PDF), fonts that
# cover Vietnamese, poppler-utils (pdftoppm, pdfinfo), Chromium for looking at the output, and
# Node.js 18+ with npm for the browser test (tests/browser/axe.mjs; `make setup` runs npm ci).
# Debian/Ubuntu (WSL2's Ubuntu on Windows too): installs them when run as root; otherwise prints
# the exact command and stops. macOS: checks Homebrew's, else prints the one brew command and
# stops. Anything else (Windows itself, other Linux systems): says what to do and stops.
set -euo pipefail

# Debian/Ubuntu.
packages=(libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-noto-core fonts-dejavu-core
          poppler-utils chromium)

# macOS: Pango (with HarfBuzz and fontconfig) for WeasyPrint, poppler, and the report's fonts.
# Training and the report need nothing more; the browser test (Debian's Chromium) is not run there.
brew_formulae=(pango poppler)
brew_casks=(font-noto-sans font-dejavu)
macos() {
    if command -v brew >/dev/null 2>&1 &&
        brew list --formula "${brew_formulae[@]}" >/dev/null 2>&1 &&
        brew list --cask "${brew_casks[@]}" >/dev/null 2>&1; then
        exit 0
    fi
    echo "nnlab needs Homebrew's Pango, poppler and fonts on macOS; run:" >&2
    command -v brew >/dev/null 2>&1 || echo "  (Homebrew first: https://brew.sh)" >&2
    echo "  brew install ${brew_formulae[*]} ${brew_casks[*]}" >&2
    exit 1
}

unsupported() {
    echo "nnlab runs on Debian or Ubuntu (apt) and on macOS (Homebrew); this is $1." >&2
    case "$1" in
        MINGW* | MSYS* | CYGWIN* | Windows*)
            echo "On Windows, use WSL2 with Ubuntu: in PowerShell, 'wsl --install -d Ubuntu'," >&2
            echo "then clone nnlab inside Ubuntu and run 'make report' there." >&2 ;;
        *)
            echo "It is not supported here: install your system's equivalents of these Debian" >&2
            echo "packages (${packages[*]})," >&2
            echo "then the rest of 'make setup' by hand: python3 -m venv .venv && .venv/bin/pip install -e '.[cpu,dev]'" >&2 ;;
    esac
    exit 1
}

platform=$(uname -s)
case "$platform" in
    Darwin) macos ;;
    Linux) command -v dpkg-query >/dev/null 2>&1 || unsupported "Linux without apt" ;;
    *) unsupported "$platform" ;;
esac

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
