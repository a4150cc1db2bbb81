"""How many threads `--threads 0` (auto) uses: the CPUs this process may use (its affinity mask, capped
by a cgroup v2/v1 CPU quota rounded down), lowered to OMP_NUM_THREADS when that is set and smaller.

`os.cpu_count()` counts the machine's CPUs, which over-subscribes torch in a container or a
Slurm/Nextflow job limited to a few of them.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _affinity() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def _own_cgroups(proc_cgroup: Path) -> dict[str, str]:
    """controller (or '' for cgroup v2) -> this process's cgroup path, from /proc/self/cgroup."""
    groups: dict[str, str] = {}
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        return groups
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) == 3:
            for controller in parts[1].split(","):
                groups[controller] = parts[2]
    return groups


def _quota(quota: str, period: str) -> float | None:
    """CPUs allowed by a quota/period pair; None when unlimited or unreadable."""
    try:
        q, p = int(quota), int(period)
    except ValueError:
        return None
    return q / p if q > 0 and p > 0 else None


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except OSError:
        return None


def _cgroup_limit(root: Path, proc_cgroup: Path) -> float | None:
    """The tightest CPU quota on this process's cgroup and its ancestors (v2 cpu.max, v1 cfs files)."""
    groups = _own_cgroups(proc_cgroup)
    limits: list[float] = []
    if "" in groups:  # cgroup v2: "max 100000" or "200000 100000"
        rel = Path(groups[""].lstrip("/"))
        for folder in [root / rel, *(root / p for p in rel.parents)]:
            text = _read(folder / "cpu.max")
            if text and len(text.split()) == 2:
                limit = _quota(*text.split())
                if limit:
                    limits.append(limit)
    if "cpu" in groups:  # cgroup v1: cpu.cfs_quota_us (-1 = unlimited) and cpu.cfs_period_us
        rel = Path(groups["cpu"].lstrip("/"))
        for base in (root / "cpu", root / "cpu,cpuacct"):
            for folder in [base / rel, *(base / p for p in rel.parents)]:
                quota, period = _read(folder / "cpu.cfs_quota_us"), _read(folder / "cpu.cfs_period_us")
                if quota and period:
                    limit = _quota(quota, period)
                    if limit:
                        limits.append(limit)
    return min(limits) if limits else None


def available_cpus(root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")) -> int:
    """CPUs this process may use: the affinity mask, lowered to a cgroup quota rounded down; at least 1.

    Rounding down: a 1.5-CPU quota running 2 busy threads is throttled for part of every period."""
    cpus = _affinity()
    limit = _cgroup_limit(root, proc_cgroup)
    if limit is not None:
        cpus = min(cpus, max(1, math.floor(limit)))
    return max(1, cpus)


def omp_threads(value: str | None) -> int | None:
    """The thread count an OMP_NUM_THREADS value asks for (its first, outermost level), or None when
    unset, empty or not a positive integer written in ASCII digits (OpenMP runtimes ignore such values too)."""
    match = re.fullmatch(r"\s*\+?([0-9]+)\s*", (value or "").split(",")[0])
    return int(match[1]) if match and int(match[1]) > 0 else None


def auto_threads() -> int:
    """The `--threads 0` count: `available_cpus()`, never more; OMP_NUM_THREADS lowers it when set.

    OMP_NUM_THREADS matters for bare runs and environments a site sets up; the Nextflow modules and
    Galaxy tools pass `--threads` explicitly (task.cpus, GALAXY_SLOTS)."""
    cpus = available_cpus()
    return min(omp_threads(os.environ.get("OMP_NUM_THREADS")) or cpus, cpus)
