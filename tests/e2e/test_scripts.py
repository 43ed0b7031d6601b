"""The scripts a newcomer runs first: ./scripts/serve and ./scripts/test started together on a fresh clone."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.e2e.harness import ROOT


def test_two_scripts_starting_together_share_one_virtualenv_install(tmp_path: Path) -> None:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "_venv.sh", tmp_path / "scripts" / "_venv.sh")
    (tmp_path / "requirements.txt").write_text("# nothing to install\n")
    (tmp_path / "requirements-dev.txt").write_text("-r requirements.txt\n")
    # What serve and test do first, started at the same moment.
    starts = [
        subprocess.Popen(
            ["bash", "-c", f'source scripts/_venv.sh && ensure_venv {requirements} && echo "ready {requirements}"'],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for requirements in ("requirements.txt", "requirements-dev.txt")
    ]
    outputs = [start.communicate(timeout=240)[0] for start in starts]
    assert [start.returncode for start in starts] == [0, 0], outputs
    assert "ready requirements.txt" in outputs[0] and "ready requirements-dev.txt" in outputs[1]
    combined = "".join(outputs)
    assert combined.count("Creating virtual environment") == 1, combined
    assert (tmp_path / ".venv" / ".installed-requirements.txt").is_file()
    assert (tmp_path / ".venv" / ".installed-requirements-dev.txt").is_file()
