#!/usr/bin/env bash
# Regenerate the speech fixtures in tests/fixtures/audio/ (WAVs + references.json).
# Needs espeak-ng and sox (apt-get install -y espeak-ng sox); the test suite itself needs neither,
# because the generated files are committed.
set -euo pipefail

OUT="${1:-$(cd "$(dirname "$0")/.." && pwd)/tests/fixtures/audio}"
VOICE="en-us"
WPM=150
GAP_S=0.6 # silence between sentences of the long file

mkdir -p "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# espeak-ng writes 22.05 kHz; the service and Whisper expect 16 kHz mono 16-bit PCM.
speak() { # speak <text> <out.wav>
    espeak-ng -v "$VOICE" -s "$WPM" -w "$WORK/raw.wav" "$1"
    sox "$WORK/raw.wav" -r 16000 -c 1 -b 16 "$2"
}

# name|text: short clips, 2-5 s each, plain words only.
SHORT=(
    "kitchen_lights|please turn on the kitchen lights"
    "sunny_day|it is a sunny day and the sky is blue"
    "apples_oranges|she has three apples and two oranges"
    "open_window|open the window and let the fresh air in"
)

# Sentences of the long benchmark file, joined with GAP_S seconds of silence.
LONG_NAME="long_story"
LONG=(
    "this morning we walked to the market near the river"
    "the streets were quiet and the shops were just opening"
    "my sister wanted to buy some green apples"
    "we found a small cafe with a red door"
    "the owner gave us warm rolls and a cup of tea"
    "after breakfast we sat on a bench and watched the water"
    "a little dog ran along the road chasing the birds"
    "in the afternoon it started to rain so we went home"
    "we cooked soup for dinner and read books all evening"
    "it was a simple day but we were very happy"
)

json_escape() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g'; }

refs=()
for entry in "${SHORT[@]}"; do
    name="${entry%%|*}"
    text="${entry#*|}"
    speak "$text" "$OUT/$name.wav"
    refs+=("\"$name.wav\": \"$(json_escape "$text")\"")
done

sox -n -r 16000 -c 1 -b 16 "$WORK/gap.wav" trim 0 "$GAP_S"
parts=()
i=0
for text in "${LONG[@]}"; do
    speak "$text" "$WORK/long_$i.wav"
    parts+=("$WORK/long_$i.wav")
    [[ $i -lt $((${#LONG[@]} - 1)) ]] && parts+=("$WORK/gap.wav")
    i=$((i + 1))
done
sox "${parts[@]}" "$OUT/$LONG_NAME.wav"
long_text="$(printf '%s. ' "${LONG[@]}")"
refs+=("\"$LONG_NAME.wav\": \"$(json_escape "${long_text% }")\"")

{
    echo "{"
    n=${#refs[@]}
    for ((j = 0; j < n; j++)); do
        sep=","
        [[ $j -eq $((n - 1)) ]] && sep=""
        echo "  ${refs[$j]}$sep"
    done
    echo "}"
} >"$OUT/references.json"

for f in "$OUT"/*.wav; do
    printf '%s\t%ss\n' "$(basename "$f")" "$(soxi -D "$f")"
done
