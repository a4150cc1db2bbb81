#!/usr/bin/env bash
# `clean --stats-tsv` tables must be read by MultiQC's custom content: clean the chr20 slice (BAM for two
# samples, GTF for one) with scores taken from its truth table, run MultiQC on the tables, and check
# that both sections come out with every sample and the same numbers as the stats JSON.
# Installs MultiQC from PyPI into .venv-multiqc/ once.
set -euo pipefail
cd "$(dirname "$0")/../.."

MULTIQC_PIN="1.35"
VENV=.venv-multiqc

[ -x .venv/bin/splam_score.py ] || make venv
if ! "$VENV/bin/multiqc" --version 2>/dev/null | grep -q "$MULTIQC_PIN"; then
    [ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check \
        -c scripts/checks/multiqc-constraints.txt "multiqc==$MULTIQC_PIN"
fi

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
CLI=.venv/bin/splam_score.py

# Scores in the `score` layout (high for good junctions, low for bad ones).
$CLI extract tests/data/chr20_slice.bam -o "$WORK/junctions.bed" 2>/dev/null
$CLI extract tests/data/chr20_slice.gtf -o "$WORK/introns.bed" 2>/dev/null
.venv/bin/python - "$WORK" <<'EOF'
import sys
from pathlib import Path

work = Path(sys.argv[1])
truth = {}
for line in Path("tests/data/chr20_slice.truth.tsv").read_text().splitlines()[1:]:
    chrom, start, end, strand, annotated, _ = line.split("\t")
    truth[(chrom, start, end, strand)] = annotated == "1"
for name, out in (("junctions.bed", "scores.bed"), ("introns.bed", "gtf_scores.bed")):
    with open(work / name) as src, open(work / out, "w") as dst:
        for i, line in enumerate(src):
            if line.startswith("#"):  # the strand-source line: score copies it, clean checks it
                dst.write(line)
                continue
            f = line.rstrip("\n").split("\t")
            # BAM junctions by the truth table; GTF introns: two in three bad, so transcripts go
            good = truth[(f[0], f[1], f[2], f[5])] if name == "junctions.bed" else i % 3 == 0
            donor, acceptor = ("0.9700000000", "0.9300000000") if good else ("0.0200000000", "0.0300000000")
            dst.write("\t".join([*f[:6], donor, acceptor, *f[6:]]) + "\n")
EOF

mkdir "$WORK/tables"
$CLI clean tests/data/chr20_slice.bam --scores "$WORK/scores.bed" -o "$WORK/a.bam" --discarded "$WORK/a.d.bam" \
    --paired --sample sampleA --stats "$WORK/a.json" --stats-tsv "$WORK/tables/sampleA_mqc.tsv" 2>/dev/null
$CLI clean tests/data/chr20_slice.bam --scores "$WORK/scores.bed" -o "$WORK/b.bam" --discarded "$WORK/b.d.bam" \
    --threshold 0.01 --sample sampleB --stats "$WORK/b.json" --stats-tsv "$WORK/tables/sampleB_mqc.tsv" 2>/dev/null
$CLI clean tests/data/chr20_slice.gtf --scores "$WORK/gtf_scores.bed" -o "$WORK/c.gtf" --sample genes \
    --stats "$WORK/c.json" --stats-tsv "$WORK/tables/genes_mqc.tsv" 2>/dev/null

"$VENV/bin/multiqc" --quiet --force --no-version-check "$WORK/tables" -o "$WORK/report" >/dev/null 2>&1

.venv/bin/python - "$WORK" <<'EOF'
import csv
import json
import sys
from pathlib import Path

work = Path(sys.argv[1])
data = work / "report" / "multiqc_data"


def table(name):
    with open(data / name) as handle:
        return {row["Sample"]: row for row in csv.DictReader(handle, delimiter="\t")}


bam = table("multiqc_splamflow_clean_table.txt")
gtf = table("multiqc_splamflow_clean_annotation_table.txt")
assert set(bam) == {"sampleA", "sampleB"}, bam
assert set(gtf) == {"genes"}, gtf
for sample, stats in (("sampleA", "a.json"), ("sampleB", "b.json")):
    counts = json.loads((work / stats).read_text())["counts"]
    for key in ("records_in", "records_kept", "records_discarded", "multimapped_reads_nh_changed"):
        assert float(bam[sample][key]) == counts[key], (sample, key, bam[sample][key], counts[key])
counts = json.loads((work / "c.json").read_text())["counts"]
assert float(gtf["genes"]["transcripts_removed"]) == counts["transcripts_removed"] > 0
assert float(bam["sampleA"]["records_discarded"]) > 0 and float(bam["sampleB"]["records_discarded"]) == 0
print(
    f"clean_multiqc: MultiQC read both tables: sampleA discarded "
    f"{bam['sampleA']['records_discarded']}, sampleB {bam['sampleB']['records_discarded']}, "
    f"annotation: {gtf['genes']['transcripts_removed']} transcripts removed"
)
EOF
