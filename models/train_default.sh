#!/usr/bin/env bash
# Rebuild the shipped `human_v1` model (the default before v2: models/train_human_v2.sh) from the real
# GRCh37 data in ../shared/data (see models/README.md).
# Resumable: re-running continues from runs/default/train/checkpoint.pt.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=../shared/data/grch37
RUN=${RUN:-runs/default}
SPLAM=.venv/bin/splam_score.py

[ -f "$RUN/curated/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/chr20.fa.gz" --genome "$DATA/chrX_0-70Mb.fa.gz" \
    --annotation "$DATA/gencode_v24lift37_canonical.gtf.gz" \
    --alt "$DATA/refseq_hg19_merged_exon_gaps.introns.bed.gz" \
    --test-contigs X --validation-fraction 0.05 --seed 0 -o "$RUN/curated"

"$SPLAM" train "$RUN/curated" -o "$RUN/train" --epochs 10 --warmup-steps 250 --threads 2 \
    --checkpoint-every 25 --model-version splamflow-grch37-chr20-v1

"$SPLAM" evaluate "$RUN/curated/test.npz" --model "$RUN/train/model.safetensors" -o "$RUN/evaluate" \
    --record-in-metadata

cp "$RUN/train/model.safetensors" splamflow/models/splam_human_v1.safetensors
cp "$RUN/train/model.json" splamflow/models/splam_human_v1.json
