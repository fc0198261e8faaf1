"""Install, lint and Binder: the habits that keep a notebook project healthy."""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import tomllib
import yaml

ROOT = Path(__file__).resolve().parents[1]


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    result = subprocess.run([ruff, "check", "."], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyproject_declares_ranges_not_pins_for_the_runtime():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["name"] == "dl-lab"
    torch = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert ">=" in torch and "==" not in torch  # users with GPUs pick their build
    for needed in ("ipywidgets>=8.1", "plotly>=6", "anywidget", "jupyterlab>=4", "voila>=0.5.11"):
        assert any(d.startswith(needed) for d in project["dependencies"]), needed
    for needed in ("pytest", "nbval", "playwright", "hypothesis", "ruff"):
        assert any(d.startswith(needed) for d in project["optional-dependencies"]["test"]), needed


def test_pre_commit_strips_notebook_outputs_and_runs_ruff():
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert {"clean-notebooks", "ruff"} <= set(hooks)
    assert hooks["clean-notebooks"]["entry"] == "python .ci/clean_notebooks.py"


def test_binder_uses_python_311_and_the_cpu_torch_index():
    assert (ROOT / "binder/runtime.txt").read_text().strip() == "python-3.11"
    requirements = (ROOT / "binder/requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    assert "." in requirements  # the lab itself


def test_repo2docker_accepts_the_binder_folder():
    repo2docker = shutil.which("repo2docker") or str(Path(sys.executable).with_name("repo2docker"))
    result = subprocess.run([repo2docker, "--no-build", "--no-run", "--debug", "."], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    dockerfile = result.stdout + result.stderr
    assert result.returncode == 0, dockerfile[-2000:]
    assert "python=3.11" in dockerfile
    copy_repo = dockerfile.index("COPY --chown=0:0 src/ ${REPO_DIR}/")
    install = dockerfile.index('pip install --no-cache-dir -r "binder/requirements.txt"')
    assert copy_repo < install  # the lab (".") is installed after the repository is in place
    assert dockerfile.index("RUN ./binder/postBuild") > copy_repo  # the kernel culling config, from the repository
    # the server starts through binder/start, which starts the kernel template first (widgets/kernel_template.py)
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in dockerfile


def test_binder_and_the_readmes_jupyterlab_shut_down_kernels_of_labs_left_idle(tmp_path):
    """postBuild installs the culling config where a Jupyter server reads it, and the server does read it; it also
    installs the lab's Voilà template and fills lab 18's GloVe cache in the image."""
    home = tmp_path / "home"
    cache_free = {k: v for k, v in os.environ.items() if k not in ("LAB_CACHE_DIR", "XDG_CACHE_HOME")}
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"  # `python` is the lab's, as on Binder
    subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env={**cache_free, "HOME": str(home), "PATH": path},
                   check=True)
    assert [p.name.split("-")[1] for p in sorted((home / ".cache" / "dl-lab").iterdir())] == ["unit", "words"]
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")} | {"HOME": str(home)}
    shown = subprocess.run([str(Path(sys.executable).with_name("jupyter")), "server", "--show-config"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0, shown.stderr[-2000:]
    settings = re.search(r"MappingKernelManager\n((?:  \..*\n)+)", shown.stdout).group(1)
    assert ".cull_idle_timeout = 600" in settings and ".cull_interval = 60" in settings
    assert ".cull_connected = False" in settings  # an open tab keeps its kernel
    assert "KernelProvisionerFactory\n  .default_provisioner_name = 'dl-lab-warm'" in shown.stdout  # spare kernels
    # Voilà (a server extension there) renders with the lab's template, which postBuild installed
    assert "VoilaConfiguration\n  .template = 'dl-lab'" in shown.stdout
    assert (Path(sys.prefix) / "share" / "jupyter" / "voila" / "templates" / "dl-lab" / "index.html.j2").is_file()
    assert "--config=binder/jupyter_server_config.json" in (ROOT / "README.md").read_text()


def test_voila_and_jupyterlab_start_every_kernel_with_the_imports_done():
    """A lab's kernel spends its first seconds importing torch, plotly and ipywidgets. Voilà and the README's
    JupyterLab (and Binder) fork each new kernel from a template that did that already (on Linux; elsewhere they
    hand it a spare: widgets/warm_kernels.py), instead of keeping a preheated kernel per notebook (0.3–0.7 GB each,
    ~9 GB for 19 labs). Only the index, which holds no dashboard, stays preheated: its kernel also starts the
    template when the server starts."""
    from importlib.metadata import entry_points

    from widgets.warm_kernels import WarmKernelProvisioner

    voila = json.loads((ROOT / "voila.json").read_text())
    binder = json.loads((ROOT / "binder" / "jupyter_server_config.json").read_text())
    for config in (voila, binder):
        assert config["KernelProvisionerFactory"]["default_provisioner_name"] == "dl-lab-warm"
    (entry,) = entry_points(group="jupyter_client.kernel_provisioners", name="dl-lab-warm")
    assert entry.load() is WarmKernelProvisioner  # declared in pyproject.toml: a server finds it by this name
    pools = voila["VoilaKernelManager"]["kernel_pools_config"]
    assert voila["VoilaConfiguration"]["preheat_kernel"] is True
    assert pools == {"default": {"pool_size": 0}, "00_index.ipynb": {"pool_size": 1}}
