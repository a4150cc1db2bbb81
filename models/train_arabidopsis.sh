#!/usr/bin/env bash
# The shipped `arabidopsis` model: `human_v1` (the default when it was made) fine-tuned on Arabidopsis
# arenosa (chromosomes 1-2), four candidates compared with it on arenosa validation junctions, the one
# that beats it on all four figures (D) compared once with it on held-out A. thaliana chr1. See
# models/README.md. Resumable: re-running continues from each run's checkpoint.pt. SHIP=1 copies the
# result into splamflow/models/ (only if it passed both comparisons).
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data/arabidopsis}
RUN=${RUN:-runs/arabidopsis}
SPLAM=${SPLAM:-.venv/bin/splam_score.py}
PYTHON=${PYTHON:-.venv/bin/python}
THREADS=${THREADS:-2}
PARENT=human_v1
ARENOSA=(--genome "$DATA/Aarenosa_AARE701a_chr1_chr2.fa.gz" --annotation "$DATA/Aarenosa_AARE701a_chr1_chr2.gtf.gz")

# training species, 1 and 2 negatives per positive; 5% of the junctions held out for model selection
[ -f "$RUN/arenosa_1to1/manifest.json" ] || "$SPLAM" curate "${ARENOSA[@]}" \
    --validation-fraction 0.05 --seed 0 -o "$RUN/arenosa_1to1"
[ -f "$RUN/arenosa_2to1/manifest.json" ] || "$SPLAM" curate "${ARENOSA[@]}" --negatives-per-positive 2 \
    --validation-fraction 0.05 --seed 0 -o "$RUN/arenosa_2to1"
# held-out species: a test set only
[ -f "$RUN/thaliana_test/manifest.json" ] || "$SPLAM" curate \
    --genome "$DATA/Athaliana_TAIR10.1_chr1.fa.gz" --annotation "$DATA/Athaliana_TAIR10.1_chr1.gtf.gz" \
    --test-contigs NC_003070.9 --validation-fraction 0 --seed 0 -o "$RUN/thaliana_test"

# candidates: name, data, train options (all from $PARENT, peak 1e-4, 6,000 junctions per epoch; the loss
# given explicitly: D's, cross-entropy with site weight 1, is now the fine-tuning default)
candidates=(
    "A arenosa_1to1 --epochs 3 --gamma 2 --site-weight 5"
    "B arenosa_1to1 --epochs 2 --gamma 2 --site-weight 1"
    "C arenosa_2to1 --epochs 3 --gamma 2 --site-weight 1"
    "D arenosa_2to1 --epochs 3 --gamma 0 --site-weight 1"
)
for candidate in "${candidates[@]}"; do
    read -r name data options <<<"$candidate"
    # shellcheck disable=SC2086  # $options is a list of flags
    "$SPLAM" train "$RUN/$data" -o "$RUN/ft_$name" --init-from "$PARENT" --learning-rate 1e-4 \
        --epoch-size 6000 --warmup-steps 20 $options --threads "$THREADS" --checkpoint-every 10 --model-version splamflow-arabidopsis-v1 --verbose
done

# model selection on the training species' validation junctions: each candidate against its parent
for data in arenosa_1to1 arenosa_2to1; do
    [ -f "$RUN/validation_${data}_parent/report.json" ] || "$SPLAM" evaluate "$RUN/$data/validation.npz" \
        --model "$PARENT" -o "$RUN/validation_${data}_parent" --threads "$THREADS"
done
for candidate in "${candidates[@]}"; do
    read -r name data _ <<<"$candidate"
    [ -f "$RUN/validation_ft_$name/report.json" ] || "$SPLAM" evaluate "$RUN/$data/validation.npz" \
        --model "$RUN/ft_$name/model.safetensors" -o "$RUN/validation_ft_$name" --threads "$THREADS"
    echo "candidate $name against $PARENT on its validation set:"
    "$PYTHON" models/compare_evaluations.py "$RUN/validation_${data}_parent" "$RUN/validation_ft_$name" || true
done
# D is the candidate the rule chose: it must still beat the parent on all four figures
"$PYTHON" models/compare_evaluations.py "$RUN/validation_arenosa_2to1_parent" "$RUN/validation_ft_D" \
    --require-better >/dev/null

# the held-out comparison, once: both models on the same random 10,000 A. thaliana chr1 junctions
"$SPLAM" evaluate "$RUN/thaliana_test/test.npz" --sample 10000 --seed 0 --model "$PARENT" \
    -o "$RUN/thaliana_parent" --threads "$THREADS"
"$SPLAM" evaluate "$RUN/thaliana_test/test.npz" --sample 10000 --seed 0 --model "$RUN/ft_D/model.safetensors" \
    -o "$RUN/thaliana_arabidopsis" --threads "$THREADS" --record-in-metadata
"$PYTHON" models/compare_evaluations.py "$RUN/thaliana_parent" "$RUN/thaliana_arabidopsis" --require-better

if [ "${SHIP:-0}" = 1 ]; then
    cp "$RUN/ft_D/model.safetensors" splamflow/models/splam_arabidopsis.safetensors
    cp "$RUN/ft_D/model.json" splamflow/models/splam_arabidopsis.json
fi
