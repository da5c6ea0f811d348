#!/usr/bin/env bash
# Render OUT/report.html in headless Chromium (Debian: apt-get install chromium) and check it drew:
#   scripts/render_report.sh OUT [SCREENSHOT.png]     (default screenshot: a temporary file, kept out of the repo)
# Exit 0 when Chromium rendered the page to a non-blank PNG and its DOM holds every section and figure.
set -euo pipefail
OUT=${1:?usage: scripts/render_report.sh OUT [SCREENSHOT.png]}
PNG=${2:-$(mktemp --suffix=.png -t llamadata-report-XXXXXX)}
BROWSER=$(command -v chromium || command -v chromium-browser || true)
[ -n "$BROWSER" ] || { echo "render_report: chromium not found; apt-get install chromium" >&2; exit 2; }
[ -f "$OUT/report.html" ] || { echo "render_report: $OUT/report.html not found; run python -m pipeline.report $OUT" >&2; exit 2; }
URL="file://$(cd "$OUT" && pwd)/report.html"
PROFILE=$(mktemp -d)
trap 'rm -rf "$PROFILE"' EXIT
FLAGS=(--headless --no-sandbox --disable-gpu --user-data-dir="$PROFILE" --hide-scrollbars)
timeout 120 "$BROWSER" "${FLAGS[@]}" --window-size=1280,6000 --screenshot="$PNG" "$URL" 2>/dev/null
DOM="$PROFILE/dom.html"
timeout 120 "$BROWSER" "${FLAGS[@]}" --dump-dom "$URL" 2>/dev/null > "$DOM"
PY=${PYTHON:-$(dirname "$0")/../.venv/bin/python}
"$PY" - "$PNG" "$DOM" <<'PYEOF'
import sys
from PIL import Image
dom = open(sys.argv[2], encoding="utf-8").read()
img = Image.open(sys.argv[1]).convert("L")
lo, hi = img.getextrema()
sections = dom.count("<h2>")
svgs = dom.count("<svg")
print(f"render_report: {sys.argv[1]} {img.size[0]}x{img.size[1]}, grey levels {lo}-{hi}; DOM: {sections} sections, {svgs} figures")
sys.exit(0 if hi - lo > 100 and sections >= 7 and svgs >= 6 else 1)
PYEOF
