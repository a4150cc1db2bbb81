#!/usr/bin/env bash
# The plant model (built and evaluated, not shipped: it does not beat `human` on held-out A. thaliana):
# the human model fine-tuned on Arabidopsis arenosa (chromosomes 1-2), then
# compared once with the human model on held-out A. thaliana chr1. See models/README.md.
# Resumable: re-running continues from $RUN/finetune/checkpoint.pt.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/arabidopsis}
RUN=${RUN:-runs/arabidopsis}
SPLAM=${SPLAM:-.venv/bin/splam_score.py}
THREADS=${THREADS:-1}

# training species: 5% of its junctions held out for model selection
[ -f "$RUN/arenosa_curated/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/Aarenosa_AARE701a_chr1_chr2.fa.gz" --annotation "$DATA/Aarenosa_AARE701a_chr1_chr2.gtf.gz" \
    --validation-fraction 0.05 --seed 0 -o "$RUN/arenosa_curated"
# held-out species: a test set only
[ -f "$RUN/thaliana_test/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/Athaliana_TAIR10.1_chr1.fa.gz" --annotation "$DATA/Athaliana_TAIR10.1_chr1.gtf.gz" \
    --test-contigs NC_003070.9 --validation-fraction 0 --seed 0 -o "$RUN/thaliana_test"

"$SPLAM" train "$RUN/arenosa_curated" -o "$RUN/finetune" --init-from human --epoch-size 4000 --epochs 1 \
    --warmup-steps 4 --threads "$THREADS" --checkpoint-every 5 --model-version splamflow-arabidopsis-v1 --verbose

# model selection on the training species' validation junctions: human as it is vs fine-tuned
"$SPLAM" evaluate "$RUN/arenosa_curated/validation.npz" --model human -o "$RUN/validation_human" \
    --threads "$THREADS"
"$SPLAM" evaluate "$RUN/arenosa_curated/validation.npz" --model "$RUN/finetune/model.safetensors" \
    -o "$RUN/validation_finetuned" --threads "$THREADS"

# the held-out comparison, once: both models on the same random 10,000 A. thaliana chr1 junctions
"$SPLAM" evaluate "$RUN/thaliana_test/test.npz" --sample 10000 --seed 0 --model human -o "$RUN/thaliana_human" \
    --threads "$THREADS"
"$SPLAM" evaluate "$RUN/thaliana_test/test.npz" --sample 10000 --seed 0 --model "$RUN/finetune/model.safetensors" \
    -o "$RUN/thaliana_finetuned" --threads "$THREADS" --record-in-metadata
