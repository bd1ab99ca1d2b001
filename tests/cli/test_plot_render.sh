#!/usr/bin/env bash
# analyze --plot as a browser shows it: headless Chromium renders each SVG
# to PNG, and the picture must not be blank (drawn pixels, the series'
# colours). Exit 77 (skipped) where Chromium is not installed:
# scripts/install-deps.sh installs it (and python3-pil) for CI.
# usage: test_plot_render.sh WQC WORKDIR PYTHON3
wqc=$1 tmp=$2 py=$3
browser=$(command -v chromium || command -v chromium-browser || true)
if [[ -z $browser ]] || ! "$py" -c "import PIL" 2>/dev/null; then
    echo "SKIP: chromium or python3-pil not installed (scripts/install-deps.sh installs both)"
    exit 77
fi
rm -rf "$tmp"
mkdir -p "$tmp"
source "$(dirname "$0")/lib.sh"
cd "$tmp" || exit 1

expect_status 0 "rd plot" -- "$wqc" analyze --rd --synthetic gaussian:512x1024 --rd-bits 2..6 --rd-k 3,8 --plot rd.svg -q
expect_status 0 "histogram plot" -- "$wqc" analyze --synthetic gaussian:512x1024 --bits 5 --plot hist.svg -q
render() { # SVG WIDTH HEIGHT PNG
    timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$tmp/profile" \
        --window-size="$2,$3" --screenshot="$tmp/$4" "file://$tmp/$1" >/dev/null 2>&1
}
expect_status 0 "chromium renders the rd plot" -- render rd.svg 1080 470 rd.png
expect_status 0 "chromium renders the histograms" -- render hist.svg 1040 240 hist.png
expect_status 0 "the pictures are not blank" -- "$py" - <<'PY'
from PIL import Image
def look(path, colours):
    im = Image.open(path).convert("RGB"); w, h = im.size
    px = im.load(); drawn = 0; seen = set()
    for y in range(0, h, 2):
        for x in range(0, w, 2):
            c = px[x, y]
            if c != (255, 255, 255): drawn += 1
            seen.add(c)
    share = drawn / ((w // 2 + w % 2) * (h // 2 + h % 2))
    assert share > 0.05, (path, share)
    for hexc in colours:
        want = tuple(int(hexc[i:i + 2], 16) for i in (1, 3, 5))
        assert any(max(abs(a - b) for a, b in zip(want, c)) < 24 for c in seen), (path, hexc)
look("rd.png", ["#1f77b4", "#d62728", "#2ca02c", "#9467bd"])   # the first series
look("hist.png", ["#1f77b4"])                                   # the bars
PY
finish
