"""available_cpus: the affinity mask, capped by cgroup v2 / v1 CPU quotas (faked files) rounded down;
auto_threads: OMP_NUM_THREADS lowers it, never raises it (faked environment)."""

from __future__ import annotations

import pytest

from splamflow import cpus


@pytest.fixture
def four_cpus(monkeypatch):
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {0, 1, 2, 3}, raising=False)


def _proc(tmp_path, text):
    p = tmp_path / "proc_cgroup"
    p.write_text(text)
    return p


def test_affinity_without_cgroup_files(tmp_path, four_cpus):
    assert cpus.available_cpus(tmp_path / "none", tmp_path / "missing") == 4


@pytest.mark.parametrize(("cpu_max", "want"), [("max 100000", 4), ("200000 100000", 2), ("150000 100000", 1),
                                               ("250000 100000", 2), ("50000 100000", 1), ("800000 100000", 4),
                                               ("garbage", 4)])
def test_cgroup_v2_quota(tmp_path, four_cpus, cpu_max, want):
    group = tmp_path / "fs" / "job" / "task"
    group.mkdir(parents=True)
    (group / "cpu.max").write_text(cpu_max + "\n")
    assert cpus.available_cpus(tmp_path / "fs", _proc(tmp_path, "0::/job/task\n")) == want


def test_cgroup_v2_parent_quota_applies(tmp_path, four_cpus):
    (tmp_path / "fs" / "job" / "task").mkdir(parents=True)
    (tmp_path / "fs" / "job" / "cpu.max").write_text("100000 100000\n")
    (tmp_path / "fs" / "job" / "task" / "cpu.max").write_text("max 100000\n")
    assert cpus.available_cpus(tmp_path / "fs", _proc(tmp_path, "0::/job/task\n")) == 1


@pytest.mark.parametrize(("quota", "want"), [("-1", 4), ("300000", 3), ("350000", 3), ("20000", 1)])
def test_cgroup_v1_cfs_quota(tmp_path, four_cpus, quota, want):
    group = tmp_path / "fs" / "cpu,cpuacct" / "docker" / "abc"
    group.mkdir(parents=True)
    (group / "cpu.cfs_quota_us").write_text(quota + "\n")
    (group / "cpu.cfs_period_us").write_text("100000\n")
    proc = _proc(tmp_path, "4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n")
    assert cpus.available_cpus(tmp_path / "fs", proc) == want


def test_never_more_than_the_affinity_mask(tmp_path, monkeypatch):
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: {5}, raising=False)
    (tmp_path / "fs").mkdir()
    (tmp_path / "fs" / "cpu.max").write_text("400000 100000\n")
    assert cpus.available_cpus(tmp_path / "fs", _proc(tmp_path, "0::/\n")) == 1


@pytest.mark.parametrize(("value", "want"), [(None, None), ("", None), ("5", 5), ("+4", 4), (" 4 ", 4), ("2,1", 2),
                                             ("0", None), ("-2", None), ("two", None), ("1.5", None),
                                             ("\u00b2", None), ("\u0663", None), ("4\u00b2", None), ("0x4", None)])
def test_omp_threads_takes_positive_ascii_integers_only(value, want):
    # "²" made int() raise, "٣" (Arabic-Indic three) was read as 3 by str.isdigit; "+4" was ignored
    assert cpus.omp_threads(value) == want


@pytest.mark.parametrize(("omp", "want"), [(None, 3), ("5", 3), ("64", 3), ("1", 1), ("2,1", 2), (" 2 ", 2),
                                           ("", 3), ("0", 3), ("-2", 3), ("two", 3), ("1.5", 3), ("\u00b2", 3)])
def test_auto_threads_omp_num_threads_lowers_never_raises(monkeypatch, omp, want):
    monkeypatch.setattr(cpus, "available_cpus", lambda: 3)
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    assert cpus.auto_threads() == want


def test_auto_threads_capped_by_a_cgroup_quota(tmp_path, monkeypatch):
    monkeypatch.setattr(cpus.os, "sched_getaffinity", lambda pid: set(range(16)), raising=False)
    (tmp_path / "fs" / "job").mkdir(parents=True)
    (tmp_path / "fs" / "job" / "cpu.max").write_text("400000 100000\n")
    monkeypatch.setattr(cpus.available_cpus, "__defaults__", (tmp_path / "fs", _proc(tmp_path, "0::/job\n")))
    monkeypatch.setenv("OMP_NUM_THREADS", "64")
    assert cpus.auto_threads() == 4


@pytest.mark.parametrize(("omp", "argv", "want"), [(None, (), 3), (None, ("--threads", "1"), 1), ("2", (), 2),
                                                   ("2", ("--threads", "1"), 1)])
def test_score_threads_default_to_the_available_cpus(tmp_path, monkeypatch, slice_fasta, random_model, omp, argv,
                                                     want):
    import torch

    from splamflow.cli import main

    calls = []
    monkeypatch.setattr(torch, "set_num_threads", calls.append)
    monkeypatch.setattr(cpus, "available_cpus", lambda: 3)
    if omp is None:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    else:
        monkeypatch.setenv("OMP_NUM_THREADS", omp)
    bed = tmp_path / "j.bed"
    bed.write_text("20\t1000000\t1000500\tj\t1\t+\n")
    out = tmp_path / "s.bed"
    assert main(["score", str(bed), "--genome", str(slice_fasta), "--model", str(random_model), "-o", str(out),
                 "--quiet", *argv]) == 0
    assert calls == [want]
