#!/usr/bin/env bash
# Install the system packages perfxl's office tests need (Debian/Ubuntu), idempotently:
#   libreoffice-calc-nogui  headless Calc: recalculation, xlsx round trips, PDF export
#   libreoffice-writer-nogui headless Writer: the 自评报告 (.docx) rendered to PDF
#   python3-uno             UNO bindings; importable only from the distro's own python3
#   fonts-wqy-microhei      a CJK font, otherwise Chinese text is blank boxes in PDFs
#   poppler-utils           pdftotext, used by the tests to read PDFs back
# --no-install-recommends is enough for headless Calc + UNO + PDF export; recommends only add
# spell-check dictionaries, perl/xdg helpers, apparmor and libpaper (paper size falls back
# to the locale; our templates set their paper size themselves).
set -euo pipefail

PACKAGES=(libreoffice-calc-nogui libreoffice-writer-nogui python3-uno fonts-wqy-microhei poppler-utils)

have_all() {
    { command -v soffice || command -v libreoffice; } >/dev/null 2>&1 &&
        /usr/bin/python3 -c "import uno" >/dev/null 2>&1 &&
        { [[ "$(uname)" != Linux ]] || compgen -G "/usr/lib/libreoffice/program/libswlo.so" >/dev/null ||
            compgen -G "/opt/libreoffice*/program/libswlo.so" >/dev/null; } &&
        fc-list 2>/dev/null | grep -qi wqy &&
        command -v pdftotext >/dev/null 2>&1
}

if have_all; then
    echo "setup-system: LibreOffice, python3-uno, WenQuanYi font and pdftotext already present."
    exit 0
fi

if [[ "$(id -u)" -ne 0 ]]; then
    echo "setup-system: 需要 root 权限安装系统软件包 (root required). Run:" >&2
    echo "  sudo $0" >&2
    echo "or install manually: apt-get install --no-install-recommends ${PACKAGES[*]}" >&2
    exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${PACKAGES[@]}"

if ! have_all; then
    echo "setup-system: packages installed but a check still fails (soffice / writer / uno / wqy font / pdftotext)." >&2
    exit 1
fi
echo "setup-system: done ($(soffice --version 2>/dev/null | head -n1))."
