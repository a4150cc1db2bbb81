"""TorchScript archives are read without running anything in them."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
import zipfile

import pytest
import torch

from splamflow.errors import UserError
from splamflow.torchscript import read_torchscript_tensors
from splamflow.weights import load_model
from tests import hostile
from tests.hostile import (
    declare_size,
    pickled_memo,
    pickled_module,
    pickled_tensor,
    splam_shaped_archive,
    torchscript_archive,
)

PRECIOUS = b"precious content, 32 bytes long\n"


def test_an_archive_whose_setstate_writes_a_file_is_refused_and_the_file_is_untouched(tmp_path):
    victim, witness = tmp_path / "victim.txt", tmp_path / "witness.txt"
    victim.write_bytes(PRECIOUS)
    witness.write_bytes(PRECIOUS)
    evil = hostile.malicious_torchscript(tmp_path / "evil.pt", victim)
    with pytest.raises(UserError) as err:
        load_model(evil)
    assert str(err.value).count("\n") == 0
    assert "refused" in str(err.value) and "__setstate__" in str(err.value)
    assert victim.read_bytes() == PRECIOUS
    # the archive is really hostile: TorchScript's own loader runs its __setstate__
    torch.jit.save(torch.jit.script(hostile.FileOverwriter(str(witness))), str(tmp_path / "evil2.pt"))
    torch.jit.load(str(tmp_path / "evil2.pt"))
    assert witness.read_bytes() == b"A" * 16 + PRECIOUS[16:]


def _archive(tmp_path, payload: bytes):
    path = tmp_path / "m.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("m/data.pkl", payload)
        z.writestr("m/constants.pkl", pickle.dumps(()))
        z.writestr("m/code/__torch__/m.py", "")
    return path


class _CallsSystem:
    def __reduce__(self):
        import os

        return (os.system, ("touch pwned",))


def test_a_pickle_naming_another_callable_is_refused(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = _archive(tmp_path, pickle.dumps(_CallsSystem(), protocol=2))
    with pytest.raises(UserError, match=r"refused: it holds the global (posix|os)\.system"):
        read_torchscript_tensors(path, max_elements=100)
    assert not (tmp_path / "pwned").exists()


def test_unknown_opcodes_and_damaged_pickles_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="pickle opcode"):
        read_torchscript_tensors(_archive(tmp_path, pickle.dumps({1, 2}, protocol=4)), max_elements=100)
    with pytest.raises(UserError, match="cannot read TorchScript archive"):
        read_torchscript_tensors(_archive(tmp_path, b"\x80\x02}q\x00"), max_elements=100)  # no STOP


def test_a_tensor_reaching_past_its_record_is_refused(tmp_path):
    module = torch.jit.script(torch.nn.Linear(3, 2))
    torch.jit.save(module, str(tmp_path / "lin.pt"))
    assert set(read_torchscript_tensors(tmp_path / "lin.pt", max_elements=8)) == {"weight", "bias"}
    with zipfile.ZipFile(tmp_path / "lin.pt") as src, zipfile.ZipFile(tmp_path / "cut.pt", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/data/0"):
                data = data[:8]  # the weight's record cut to 2 of its 6 floats
            dst.writestr(item, data)
    with pytest.raises(UserError, match="tensor record data/0 of 8 bytes, expected 24"):
        read_torchscript_tensors(tmp_path / "cut.pt", max_elements=8)


def test_a_splam_shaped_archive_of_hand_made_records_loads(tmp_path):
    """The crafted archives below differ from a valid one only where they say."""
    loaded = load_model(splam_shaped_archive(tmp_path / "ok.pt"))
    assert loaded.format == "TorchScript archive"


def _one_view(tmp_path, size: tuple[int, ...], stride: tuple[int, ...], numel: int, offset: int):
    body = pickled_module({"w": pickled_tensor("0", numel, size, stride, offset)})
    return torchscript_archive(tmp_path / "v.pt", body, {"0": bytes(4 * numel)})


@pytest.mark.parametrize(
    ("size", "stride", "numel", "offset", "message"),
    [
        ((1 << 20, 1 << 20), (0, 0), 1, 0, "a tensor of 1,099,511,627,776 elements viewing a storage of 1"),
        ((1 << 28,), (0,), 1, 0, "a tensor of 268,435,456 elements viewing a storage of 1"),
        ((2, 2), (2, 1), 4, 1, "a tensor reaching past its storage"),
        ((1,), (1,), 1, -1, "a tensor starting before its storage"),
    ],
)
def test_a_view_larger_than_its_storage_is_refused_without_a_copy(tmp_path, size, stride, numel, offset, message):
    with pytest.raises(UserError, match=message):
        read_torchscript_tensors(_one_view(tmp_path, size, stride, numel, offset), max_elements=1 << 30)


def test_names_and_shapes_are_checked_before_any_record_is_read(tmp_path):
    body = pickled_module({"w": pickled_tensor("0", 1, (1,), (1,))})
    path = torchscript_archive(tmp_path / "m.pt", body, {})  # the record is missing: never looked for
    with pytest.raises(UserError, match="not a Splam model: parameter names differ"):
        load_model(path)
    stride0 = pickled_tensor("0", 1, (64, 4, 1), (0, 0, 0))
    with pytest.raises(UserError, match="a tensor of 256 elements viewing a storage of 1"):
        load_model(splam_shaped_archive(tmp_path / "s.pt", tensors={"conv1.weight": stride0}))


def test_a_record_whose_declared_size_is_wrong_is_not_decompressed(tmp_path):
    path = splam_shaped_archive(tmp_path / "bomb.pt", records={"0": 64 << 20})
    with pytest.raises(UserError, match="tensor record data/0 of 67108864 bytes, expected 1024"):
        load_model(path)


def test_all_tensors_together_are_capped(tmp_path):
    body = pickled_module({"a": pickled_tensor("0", 4, (4,), (1,)), "b": pickled_tensor("0", 4, (2, 2), (2, 1))})
    path = torchscript_archive(tmp_path / "m.pt", body, {"0": bytes(16)})
    assert {k: v.shape for k, v in read_torchscript_tensors(path, max_elements=8).items()} == {
        "a": (4,), "b": (2, 2)}
    with pytest.raises(UserError, match="tensors of 8 elements in all, more than the 7 expected"):
        read_torchscript_tensors(path, max_elements=7)


def test_a_shared_submodule_is_named_under_each_parent_and_a_cycle_is_refused(tmp_path):
    shared = pickled_module({"w": pickled_tensor("0", 2, (2,), (1,))}, memo=1)
    body = pickled_module({"a": shared, "b": pickled_memo(1)})
    path = torchscript_archive(tmp_path / "shared.pt", body, {"0": bytes(8)})
    assert set(read_torchscript_tensors(path, max_elements=4)) == {"a.w", "b.w"}
    cycle = pickled_module({"c": pickled_module({"up": pickled_memo(0)})}, memo=0)
    with pytest.raises(UserError, match="a module that contains itself"):
        read_torchscript_tensors(torchscript_archive(tmp_path / "cycle.pt", cycle, {}), max_elements=4)
    deep = pickled_module({})
    for _ in range(100):
        deep = pickled_module({"c": deep})
    with pytest.raises(UserError, match="modules nested more than 64 deep"):
        read_torchscript_tensors(torchscript_archive(tmp_path / "deep.pt", deep, {}), max_elements=4)


_PEAK_SCRIPT = """
import json, resource, sys
from splamflow.errors import UserError
from splamflow.weights import load_model
load_model(sys.argv[1])
growth = {}
for path in sys.argv[2:]:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        load_model(path)
    except UserError as exc:
        growth[path] = [(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) >> 10, str(exc)]
print(json.dumps(growth))
"""


@pytest.mark.slow
def test_small_hostile_archives_cannot_make_the_loader_allocate_much(tmp_path):
    """A 256 KiB zip bomb (256 MiB of zeros), the same declaring the size its tensor needs, and a 1 KiB
    archive of two 256 MiB stride-0 views.

    Peak memory of a fresh process, in MiB above what loading a valid archive took.
    """
    ok = splam_shaped_archive(tmp_path / "ok.pt")
    bomb = splam_shaped_archive(tmp_path / "bomb.pt", records={"0": 256 << 20})
    liar = declare_size(splam_shaped_archive(tmp_path / "liar.pt", records={"0": 256 << 20}), "m/data/0", 1024)
    views = {f"w{i}": pickled_tensor("0", 1, (1 << 26,), (0,)) for i in range(2)}
    stride0 = torchscript_archive(tmp_path / "stride0.pt", pickled_module(views), {"0": bytes(4)})
    assert bomb.stat().st_size < ok.stat().st_size + (1 << 20) and stride0.stat().st_size < 1 << 10
    done = subprocess.run([sys.executable, "-c", _PEAK_SCRIPT, str(ok), str(bomb), str(liar), str(stride0)],
                          capture_output=True, text=True, check=True)
    growth = json.loads(done.stdout)
    assert set(growth) == {str(bomb), str(liar), str(stride0)}, growth
    assert "Bad CRC-32 for file 'm/data/0'" in growth[str(liar)][1], growth
    assert all(mib < 32 for mib, _ in growth.values()), growth


def test_names_from_the_archive_are_quoted_on_one_line(tmp_path):
    """Attribute and class names come from the archive; a newline in one must not split the message."""
    body = pickled_module({"w\nFAKE: second line": pickled_tensor("0", 1, (1,), (1,))})
    with pytest.raises(UserError, match=r"a module attribute named 'w\\nFAKE: second line'") as err:
        read_torchscript_tensors(torchscript_archive(tmp_path / "n.pt", body, {"0": bytes(4)}), max_elements=4)
    assert "\n" not in str(err.value)
