#!/bin/sh
# make-icon.sh - draws the extism-playground application icon.
#
# The icon is a rounded square ("squircle-ish", ~22% corner radius, ~6% margin)
# filled with a deep indigo -> violet vertical gradient and a slightly darker
# bottom lip.  On it sits a bold white hexagon outline (the sandboxed
# WebAssembly plugin) holding a mint-green "play" triangle (run it in the
# playground), with a soft shadow under the glyph.  Everything is drawn with
# ImageMagick 6 primitives on a 1024x1024 master, reduced with Lanczos for
# 48..512 px.  16 and 32 px come from simplified, pixel-grid-aligned masters
# (heavier outline, bigger triangle, no shadow; 16 px fills the whole canvas)
# reduced with a box filter, so they stay crisp and legible.
#
# Output (next to this script):
#   extism-playground-{16,32,48,64,128,256,512}.png   (RGBA, transparent corners)
#
# Re-run:   sh assets/icon/make-icon.sh
# Needs:    ImageMagick 6 `convert` on PATH (override with CONVERT=/path/to/convert),
#           plus awk.  No SVG renderer is required.  Output is metadata-free so
#           re-running produces byte-identical files.
set -eu

cd "$(dirname "$0")"

CONVERT=${CONVERT:-convert}
S=1024                      # master size
BG_TOP='#4b3aa8'            # gradient top (violet)
BG_BOTTOM='#2b2160'         # gradient bottom (deep indigo)
LIP='#1b1442'               # darker bottom edge
HEX='#ffffff'               # hexagon outline
PLAY='#5ef2a6'              # play triangle (mint)

TMP=$(mktemp -d "${TMPDIR:-/tmp}/extism-icon.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM

# Deterministic, metadata-free PNG output.
PNG_OPTS="-strip -define png:exclude-chunks=date,time,tEXt,zTXt,iTXt -define png:color-type=6 -define png:bit-depth=8"

# hexagon CX CY APOTHEM -> "x,y x,y ..." (pointy top; flat, vertical left and
# right sides at CX -/+ APOTHEM, so they can be aligned to the pixel grid)
hexagon() {
    awk -v cx="$1" -v cy="$2" -v ap="$3" 'BEGIN {
        pi = atan2(0, -1); s = ""; r = ap / cos(pi / 6)
        for (i = 0; i < 6; i++) {
            a = (-90 + 60 * i) * pi / 180
            s = s sprintf("%.2f,%.2f ", cx + r * cos(a), cy + r * sin(a))
        }
        print s
    }'
}

# play LEFT TIP CY JOIN -> right-pointing equilateral triangle whose flat left
# side is at x=LEFT and whose tip is at x=TIP, vertically centred on CY.  It is
# inset by JOIN/2 so that stroking it with width JOIN (round joins) restores
# the same outer size with softly rounded corners.
play() {
    awk -v l="$1" -v t="$2" -v cy="$3" -v j="$4" 'BEGIN {
        h = t - l; cx = l + h / 3          # centroid
        # insetting the sides by d moves each vertex 2d towards the centroid
        d = j / 2; h2 = h - 3 * d
        half = h2 / sqrt(3)
        printf "%.2f,%.2f %.2f,%.2f %.2f,%.2f\n", \
            cx - h2 / 3, cy - half, cx + 2 * h2 / 3, cy, cx - h2 / 3, cy + half
    }'
}

# master OUT MARGIN RADIUS LIP_H HEX_APOTHEM HEX_W TRI_LEFT TRI_TIP SHADOW(0/1)
# (all lengths in 1024-master pixels; HEX_APOTHEM is measured to the middle of
# the outline stroke)
master() {
    out=$1; m=$2; rad=$3; liph=$4; hap=$5; hw=$6; tl=$7; tt=$8; shadow=$9
    lo=$m; hi=$((S - 1 - m)); side=$((S - 2 * m))
    c=$((S / 2))

    # 1. tile mask (white rounded square on black)
    "$CONVERT" -size ${S}x${S} xc:black -fill white \
        -draw "roundrectangle $lo,$lo $hi,$hi $rad,$rad" "$TMP/mask.png"
    # face mask: same square, bottom raised by the lip height
    "$CONVERT" -size ${S}x${S} xc:black -fill white \
        -draw "roundrectangle $lo,$lo $hi,$((hi - liph)) $rad,$rad" "$TMP/facemask.png"

    # 2. lip (dark base) and gradient face
    "$CONVERT" -size ${S}x${S} "xc:$LIP" "$TMP/mask.png" \
        -alpha off -compose CopyOpacity -composite "$TMP/base.png"
    "$CONVERT" -size ${side}x$((side - liph)) "gradient:$BG_TOP-$BG_BOTTOM" \
        -background "$BG_BOTTOM" -gravity northwest \
        -extent ${S}x${S}-${lo}-${lo} \
        "$TMP/facemask.png" -alpha off -compose CopyOpacity -composite "$TMP/face.png"
    "$CONVERT" "$TMP/base.png" "$TMP/face.png" -compose Over -composite "$TMP/tile.png"

    # 3. glyph: hexagon outline + play triangle
    hexpts=$(hexagon $c $c "$hap")
    tj=$(((tt - tl) / 6))
    tripts=$(play "$tl" "$tt" $c "$tj")
    "$CONVERT" -size ${S}x${S} xc:none \
        -fill none -stroke "$HEX" -strokewidth "$hw" -draw "stroke-linejoin round polygon $hexpts" \
        -fill "$PLAY" -stroke "$PLAY" -strokewidth "$tj" -draw "stroke-linejoin round polygon $tripts" \
        "$TMP/glyph.png"

    if [ "$shadow" = 1 ]; then
        # soft shadow under the glyph, clipped to the tile
        "$CONVERT" "$TMP/glyph.png" -background '#0d0828' -alpha shape \
            -channel A -evaluate multiply 0.45 +channel \
            -blur 0x14 -page +0+18 -background none -flatten \
            "$TMP/mask.png" -alpha on -compose DstIn -composite "$TMP/shadow.png"
        "$CONVERT" "$TMP/tile.png" "$TMP/shadow.png" -compose Over -composite \
            "$TMP/glyph.png" -compose Over -composite "$out"
    else
        "$CONVERT" "$TMP/tile.png" "$TMP/glyph.png" -compose Over -composite "$out"
    fi
}

# The 1024 master is used for 48 px and up.  The 32 and 16 px icons get their
# own masters whose tile edges and vertical hexagon sides sit exactly on the
# target pixel grid (1 px = 32 resp. 64 master px) with a heavier outline, and
# are reduced with an exact box filter, so they stay crisp without sharpening
# halos.
#      out                   margin radius lip hexAp hexW triL triT shadow
master "$TMP/master.png"     61     200    18  260   72   434  704  1
master "$TMP/master-32.png"  64     224    32  272   96   384  672  0
master "$TMP/master-16.png"  0      224    0   320   128  384  704  0

for n in 512 256 128 64 48; do
    "$CONVERT" "$TMP/master.png" -filter Lanczos -resize ${n}x${n} \
        $PNG_OPTS "PNG32:extism-playground-$n.png"
done
for n in 32 16; do
    "$CONVERT" "$TMP/master-$n.png" -filter Box -resize ${n}x${n} \
        $PNG_OPTS "PNG32:extism-playground-$n.png"
done

# The Windows executable's icon (embedded by build.rs): every size up to 256 in one .ico.
"$CONVERT" extism-playground-16.png extism-playground-32.png extism-playground-48.png \
    extism-playground-64.png extism-playground-128.png extism-playground-256.png \
    extism-playground.ico

echo "wrote: $(ls extism-playground-*.png extism-playground.ico | tr '\n' ' ')"
