#!/usr/bin/env bash
# Human model v2: the seed's full recipe (15 epochs, 1,000-step warm-up, peak 0.03) on GRCh37 chr20
# with every GENCODE isoform's introns as Positive-ALT; chrX (first 70 Mb) held out for the final
# comparison with v1; chr22 is not used. See models/README.md.
# Resumable: re-running continues from $RUN/train/checkpoint.pt; MAX_STEPS=N stops after N steps.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/grch37}
RUN=${RUN:-runs/human_v2}
SPLAM=${SPLAM:-.venv/bin/splam_score.py}
THREADS=${THREADS:-2}

[ -f "$RUN/curated/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/chr20.fa.gz" --genome "$DATA/chrX_0-70Mb.fa.gz" \
    --annotation "$DATA/gencode_v24lift37_canonical.gtf.gz" \
    --alt "$DATA/gencode_v24lift37_all_isoforms_20_X.gtf.gz" \
    --test-contigs X --validation-fraction 0.05 --seed 0 -o "$RUN/curated"

"$SPLAM" train "$RUN/curated" -o "$RUN/train" --epochs 15 --threads "$THREADS" --checkpoint-every 25 \
    --max-steps "${MAX_STEPS:-0}" --model-version splamflow-grch37-chr20-v2 --verbose
[ -f "$RUN/train/model.safetensors" ] || exit 0  # stopped by MAX_STEPS: run again to resume

# the final comparison on held-out chrX, once, both versions on the same set
"$SPLAM" evaluate "$RUN/curated/test.npz" --model human -o "$RUN/evaluate_v1" --threads "$THREADS"
"$SPLAM" evaluate "$RUN/curated/test.npz" --model "$RUN/train/model.safetensors" -o "$RUN/evaluate_v2" \
    --threads "$THREADS" --record-in-metadata
