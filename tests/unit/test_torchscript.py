"""TorchScript archives are read without running anything in them."""

from __future__ import annotations

import pickle
import zipfile

import pytest
import torch

from splamflow.errors import UserError
from splamflow.torchscript import read_torchscript_tensors
from splamflow.weights import load_model
from tests import hostile

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
        read_torchscript_tensors(path)
    assert not (tmp_path / "pwned").exists()


def test_unknown_opcodes_and_damaged_pickles_are_one_line_errors(tmp_path):
    with pytest.raises(UserError, match="pickle opcode"):
        read_torchscript_tensors(_archive(tmp_path, pickle.dumps({1, 2}, protocol=4)))
    with pytest.raises(UserError, match="cannot read TorchScript archive"):
        read_torchscript_tensors(_archive(tmp_path, b"\x80\x02}q\x00"))  # no STOP


def test_a_tensor_reaching_past_its_record_is_refused(tmp_path):
    module = torch.jit.script(torch.nn.Linear(3, 2))
    torch.jit.save(module, str(tmp_path / "lin.pt"))
    assert set(read_torchscript_tensors(tmp_path / "lin.pt")) == {"weight", "bias"}
    with zipfile.ZipFile(tmp_path / "lin.pt") as src, zipfile.ZipFile(tmp_path / "cut.pt", "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("/data/0"):
                data = data[:8]  # the weight's record cut to 2 of its 6 floats
            dst.writestr(item, data)
    with pytest.raises(UserError, match="tensor record data/0 of 8 bytes, expected 24"):
        read_torchscript_tensors(tmp_path / "cut.pt")
