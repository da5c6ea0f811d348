#!/usr/bin/env bash
# The GPU checks, in one script, from the repository root on a machine with a CUDA GPU:
#   1. bench/gpu_checks.py: the trainer's step (1B, context 2048, compiled, bf16: tokens/s and MFU beside a
#      plain compiled loop), training on CUDA, bf16 eval on CUDA against float32, export of the CUDA checkpoint;
#   2. the ablation's GPU preset (train_hooks/ablate.py) on the real samples: the llama recipe's
#      CommonCrawl output against the same pages with the quality stage off, bits per byte on held-out
#      Wikipedia/books and the zero-shot tasks, two arms × SEEDS seeds of the `small` model (60M parameters).
#
#   bench/gpu_check.sh [OUT]          (default runs/gpu_check; prints and keeps OUT/checks/gpu_checks.json, OUT/ablation/)
#
# TOKENS (default 33554432: 512 steps of 65,536 tokens, a few minutes per model) and SEEDS (default 2)
# shorten the preset to fit a short device slot; FULL=1 runs the preset as it is (268,435,456 tokens, 3 seeds,
# about one GPU-hour). The samples hold ~0.2-0.4M tokens per arm, so the preset repeats them hundreds of times:
# on them this checks the GPU path and its speed; a comparison worth reading needs full-size arms.
# The arms are curated with Beam on the CPU first (skipped when OUT/curated and OUT/raw are there: build them
# on a CPU machine and copy them over when the GPU machine has no Beam). SHARED: the data folder.
set -euo pipefail
OUT=${1:-runs/gpu_check}
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-../shared/data}
mkdir -p "$OUT"

"$PY" bench/gpu_checks.py --out "$OUT/checks"

ENWIKI="$SHARED/wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
COMMON=(--commoncrawl_input="$SHARED/commoncrawl/*.warc.gz" --wikipedia_input="$ENWIKI" --stages=curate)
[ -f "$OUT/curated/stats.json" ] || "$PY" -m pipeline.run "${COMMON[@]}" --sources=commoncrawl,wikipedia,books \
  --books_input="$SHARED/books/raw/*.txt.gz" --output="$OUT/curated"
[ -f "$OUT/raw/stats.json" ] || "$PY" -m pipeline.run "${COMMON[@]}" --sources=commoncrawl \
  --set commoncrawl.quality=false --output="$OUT/raw"

SIZE=()
[ "${FULL:-0}" = 1 ] || SIZE=(--tokens "${TOKENS:-33554432}" --seeds "${SEEDS:-2}")
"$PY" -m train_hooks.ablate curated="$OUT/curated" raw="$OUT/raw" --sources commoncrawl \
  --reference "$OUT/curated" --reference_sources wikipedia,books --preset gpu --device cuda "${SIZE[@]}" \
  --out "$OUT/ablation"
cat "$OUT/ablation/timing.json"
