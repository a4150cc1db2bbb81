"""`splam_score.py --tool-versions` (the versions every SPLAMFLOW_SCORE task reports): the values torch
itself gives, read without importing torch; `--version` does not import torch either."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

import splamflow
from splamflow import versions
from splamflow.cli import main
from splamflow.errors import UserError


def test_tool_versions_are_what_torch_reports(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--tool-versions"])
    assert stop.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"splamflow={splamflow.__version__}",
        f"torch={torch.__version__}",
        f"cuda={torch.version.cuda or 'none'}",
    ]


@pytest.mark.parametrize("flag", ["--version", "--tool-versions", "--list-models"])
def test_version_flags_do_not_import_torch(flag):
    code = (
        "import sys\nfrom splamflow.cli import main\n"
        f"try:\n    main([{flag!r}])\nexcept SystemExit:\n    pass\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "False", out


def test_a_torch_without_version_file_is_a_user_error(tmp_path, monkeypatch):
    fake = tmp_path / "torch"
    fake.mkdir()
    (fake / "__init__.py").write_text("")
    (fake / "version.py").write_text("cuda = None\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "torch")
    with pytest.raises(UserError, match="no __version__"):
        versions.torch_versions()
