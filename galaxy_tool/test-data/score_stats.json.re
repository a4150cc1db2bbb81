^\{$
^  "input": "junctions\.bed",$
^  "genome": "genome\.fa",$
^  "device": .*$
^  "precision": "fp32",$
^  "batch_size": .*$
^  "rows": 41,$
^  "scored": 41,$
^  "computed": 41,$
^  "skipped": \{$
^    "strand": 0,$
^    "contig": 0,$
^    "bounds": 0,$
^    "site_n": 0$
^  \},$
^  "junctions_per_second": .*$
^  "model": .*$
^  "model_format": "splamflow safetensors",$
^  "model_version": "splamflow\-grch37\-chr20\-v2",$
^  "seconds": .*$
^  "strand_source": null,$
^  "spliced_records": null,$
^  "unstranded_records": null$
^\}$
