#!/usr/bin/env python3
"""splam_score.py: the splamflow entrypoint (Nextflow `bin/` convention); see `--help`."""

import sys

from splamflow.cli import main

if __name__ == "__main__":
    sys.exit(main())
