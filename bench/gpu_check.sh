#!/usr/bin/env bash
# Every GPU check of the model stage in one device call, its CPU work done beforehand:
#
#   bench/gpu_check.sh --prepare [OUT]   on a CPU machine (Beam): the two ablation arms, curated with Beam from
#                                        the real samples (OUT/curated: the llama recipe's CommonCrawl output,
#                                        + Wikipedia and books, the reference text; OUT/raw: the same pages with
#                                        the quality stage off), then the ablation's plan, reference passages,
#                                        shared tokenizer and training sets (train_hooks.ablate --prepare_only).
#                                        Carry OUT to the GPU machine (the device tool's `carry`).
#   bench/gpu_check.sh [OUT]             on the GPU machine, one call: the checks below, each under its own time
#                                        limit (a phase cut short is said and the next one runs), the budget
#                                        printed first. Refused in one line when OUT was not prepared.
#   --device cpu --quick                 the same path on CPU with tiny sizes (tests/test_ablate.py runs it)
#
# The GPU call: (1) bench/gpu_checks.py --only throughput: the trainer's step on the 1B config (compiled, bf16)
# beside the plain compiled loop, tokens/s and MFU (5 timed steps; the two compilations dominate);
# (2) bench/gpu_checks.py --only train,eval,export on the prepared mixture (OUT/ablation/data/curated): training
# on CUDA, bf16 eval against float32, export of the CUDA checkpoint; (3) the ablation's GPU preset shortened:
# 2 arms × SEEDS (2) seeds of `small` (60M parameters, context 1,024) on TOKENS (4,194,304 = 64 steps of 65,536)
# tokens each, uncompiled, TASK_LIMIT (500) items per task, 200 kB of reference text per source. About 6 minutes
# on an H100 by estimate (no GPU has run it yet: the printed phase times are the measurement); at most the sum
# of the limits, 7.5 minutes, within the device's 10 minutes a command.
# FULL=1: the real sizes, about one GPU-hour (gpu_checks.py --full; the GPU preset as it is: 268,435,456
# tokens, 3 seeds, compiled, every task item), no time limits; prepared apart (OUT/ablation_full) by
# FULL=1 bench/gpu_check.sh --prepare OUT. The samples hold ~0.2-0.4M tokens per arm, so the preset repeats
# them many times: on them this checks the GPU path and its speed; a comparison worth reading needs
# full-size arms. SHARED: the data folder (default ../shared/data); PY: the Python (default .venv/bin/python).
set -euo pipefail
PREPARE=0 DEVICE=cuda QUICK=0 OUT=runs/gpu_check
while [ $# -gt 0 ]; do
  case "$1" in
    --prepare) PREPARE=1 ;;
    --device) DEVICE=${2:?--device cuda|cpu}; shift ;;
    --device=*) DEVICE=${1#--device=} ;;
    --quick) QUICK=1 ;;
    -*) echo "bench/gpu_check.sh: error: unknown option $1 (--prepare, --device cuda|cpu, --quick, OUT)" >&2; exit 2 ;;
    *) OUT=$1 ;;
  esac
  shift
done
case "$DEVICE" in cuda|cpu) ;; *) echo "bench/gpu_check.sh: error: --device $DEVICE: cuda or cpu" >&2; exit 2 ;; esac
PY=${PY:-.venv/bin/python}
SHARED=${SHARED:-../shared/data}
FULL=${FULL:-0}

# The ablation: the same options for --prepare and the GPU call (its plan.json holds them).
ARMS=(curated="$OUT/curated" raw="$OUT/raw" --sources commoncrawl --reference "$OUT/curated"
      --reference_sources wikipedia,books --device "$DEVICE")
if [ "$QUICK" = 1 ]; then
  ABL="$OUT/ablation_quick"
  SIZE=(--preset cpu --tokens 4096 --seeds 2 --task_limit 8 --reference_bytes 5000)
  CHECKS=(--quick) LIMITS=(300 300 300)
elif [ "$FULL" = 1 ]; then
  ABL="$OUT/ablation_full"
  SIZE=(--preset gpu)
  CHECKS=(--full) LIMITS=(0 0 0)
else
  ABL="$OUT/ablation"
  SIZE=(--preset gpu --tokens "${TOKENS:-4194304}" --seeds "${SEEDS:-2}" --task_limit "${TASK_LIMIT:-500}"
        --reference_bytes 200000 --no-compile)
  CHECKS=() LIMITS=(150 90 210)     # seconds: throughput, train/eval/export, ablation
fi
ABLATE=("$PY" -m train_hooks.ablate "${ARMS[@]}" "${SIZE[@]}" --out "$ABL")

if [ "$PREPARE" = 1 ]; then
  ENWIKI="$SHARED/wikipedia/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
  COMMON=(--commoncrawl_input="$SHARED/commoncrawl/*.warc.gz" --wikipedia_input="$ENWIKI" --stages=curate)
  [ -f "$OUT/curated/stats.json" ] || "$PY" -m pipeline.run "${COMMON[@]}" --sources=commoncrawl,wikipedia,books \
    --books_input="$SHARED/books/raw/*.txt.gz" --output="$OUT/curated"
  [ -f "$OUT/raw/stats.json" ] || "$PY" -m pipeline.run "${COMMON[@]}" --sources=commoncrawl \
    --set commoncrawl.quality=false --output="$OUT/raw"
  "${ABLATE[@]}" --prepare_only
  echo "gpu_check: prepared $OUT ($(du -sh "$OUT" | cut -f1)); on the GPU machine: bench/gpu_check.sh $([ "$QUICK" = 1 ] && echo "--device $DEVICE --quick ")$OUT"
  exit 0
fi

if [ ! -f "$ABL/data/prepared.json" ]; then
  echo "bench/gpu_check.sh: error: $ABL is not prepared; run $([ "$FULL" = 1 ] && echo "FULL=1 ")bench/gpu_check.sh --prepare$([ "$QUICK" = 1 ] && echo " --device $DEVICE --quick") $OUT on a CPU machine (with Beam) first, and carry $OUT here" >&2
  exit 2
fi

START=$SECONDS
FAILED=()
rm -f "$OUT/checks/gpu_checks.json"    # the two gpu_checks.py calls below add up to this call's record
if [ "${LIMITS[0]}" = 0 ]; then
  echo "gpu_check: budget: no time limits (FULL=1: about one GPU-hour)"
else
  echo "gpu_check: budget: throughput ≤ ${LIMITS[0]} s, train/eval/export ≤ ${LIMITS[1]} s, ablation" \
       "(2 arms × ${SEEDS:-2} seeds) ≤ ${LIMITS[2]} s: at most $(( LIMITS[0] + LIMITS[1] + LIMITS[2] )) s in all"
fi

phase() {   # phase NAME LIMIT COMMAND...: run it under its limit (0: none), say how long it took and how it ended
  local name=$1 limit=$2 t0=$SECONDS rc=0
  shift 2
  if [ "$limit" = 0 ]; then "$@" || rc=$?; else timeout --signal=TERM --kill-after=10 "$limit" "$@" || rc=$?; fi
  local took=$(( SECONDS - t0 ))
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "gpu_check: $name: cut at its limit of $limit s"
    FAILED+=("$name (cut at $limit s)")
  elif [ "$rc" != 0 ]; then
    echo "gpu_check: $name: FAILED (exit $rc) after $took s"
    FAILED+=("$name (exit $rc)")
  else
    echo "gpu_check: $name: done in $took s"
  fi
}

phase throughput "${LIMITS[0]}" "$PY" bench/gpu_checks.py --device "$DEVICE" ${CHECKS[@]+"${CHECKS[@]}"} \
  --data "$ABL/data/curated" --out "$OUT/checks" --only throughput
phase train/eval/export "${LIMITS[1]}" "$PY" bench/gpu_checks.py --device "$DEVICE" ${CHECKS[@]+"${CHECKS[@]}"} \
  --data "$ABL/data/curated" --out "$OUT/checks" --only train,eval,export
phase ablation "${LIMITS[2]}" "${ABLATE[@]}"
[ -f "$ABL/timing.json" ] && cat "$ABL/timing.json"
echo "gpu_check: $(( SECONDS - START )) s in all; $OUT/checks/gpu_checks.json, $ABL/ablation.json"
if [ ${#FAILED[@]} -gt 0 ]; then
  echo "gpu_check: FAILED: ${FAILED[*]}" >&2
  exit 1
fi
echo "gpu_check: all ok"
