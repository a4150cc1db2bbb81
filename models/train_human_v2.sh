#!/usr/bin/env bash
# The shipped default `human` (splamflow-grch37-chr20-v2): v1 (`human_v1`, models/train_default.sh)
# continued on GRCh37 chr20 with every GENCODE isoform's introns as Positive-ALT and 2 Negative-Random
# per positive; chrX (first 70 Mb) held out for the final comparison with v1; chr22 not used.
# See models/README.md. Resumable: re-running continues from $RUN/train/checkpoint.pt. SHIP=1 copies the
# result into splamflow/models/ (only if it passed both comparisons).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/grch37}
RUN=${RUN:-runs/human_v2}
SPLAM=${SPLAM:-.venv/bin/splam_score.py}
PYTHON=${PYTHON:-.venv/bin/python}
THREADS=${THREADS:-2}

[ -f "$RUN/curated_2to1/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/chr20.fa.gz" --genome "$DATA/chrX_0-70Mb.fa.gz" \
    --annotation "$DATA/gencode_v24lift37_canonical.gtf.gz" \
    --alt "$DATA/gencode_v24lift37_all_isoforms_20_X.gtf.gz" \
    --negatives-per-positive 2 --test-contigs X --validation-fraction 0.05 --seed 0 -o "$RUN/curated_2to1"

# 3 epochs of 12,000 random junctions from v1, peak 3e-4 after 50 steps, cross-entropy, site weight 1
"$SPLAM" train "$RUN/curated_2to1" -o "$RUN/train" --init-from human_v1 --learning-rate 3e-4 --warmup-steps 50 \
    --epoch-size 12000 --epochs 3 --gamma 0 --site-weight 1 --threads "$THREADS" --checkpoint-every 20 \
    --model-version splamflow-grch37-chr20-v2 --verbose

# model selection: v2 must beat v1 on all four figures on the chr20 validation junctions
"$SPLAM" evaluate "$RUN/curated_2to1/validation.npz" --model human_v1 -o "$RUN/validation_v1" --threads "$THREADS"
"$SPLAM" evaluate "$RUN/curated_2to1/validation.npz" --model "$RUN/train/model.safetensors" -o "$RUN/validation_v2" \
    --threads "$THREADS"
"$PYTHON" models/compare_evaluations.py "$RUN/validation_v1" "$RUN/validation_v2" --require-better

# the final comparison on held-out chrX, both versions on the same set
"$SPLAM" evaluate "$RUN/curated_2to1/test.npz" --model human_v1 -o "$RUN/evaluate_v1" --threads "$THREADS"
"$SPLAM" evaluate "$RUN/curated_2to1/test.npz" --model "$RUN/train/model.safetensors" -o "$RUN/evaluate_v2" \
    --threads "$THREADS" --record-in-metadata
"$PYTHON" models/compare_evaluations.py "$RUN/evaluate_v1" "$RUN/evaluate_v2" --require-better

if [ "${SHIP:-0}" = 1 ]; then
    cp "$RUN/train/model.safetensors" splamflow/models/splam_human.safetensors
    cp "$RUN/train/model.json" splamflow/models/splam_human.json
fi
