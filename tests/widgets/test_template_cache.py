"""Voilà's page templates are compiled once per server (widgets/template_cache.py), and pages stay the same."""

from __future__ import annotations

import json
from pathlib import Path

import jinja2
import nbformat
import pytest
from traitlets.config import Config
from voila_pages import voila_page

from widgets import template_cache
from widgets.template_cache import CompiledTemplates, ShareCompiledTemplates, shared_cache

ROOT = Path(__file__).resolve().parents[2]
PREPROCESSOR = "widgets.template_cache.ShareCompiledTemplates"


@pytest.fixture
def compiles(monkeypatch) -> list[str]:
    """The names of the templates Jinja compiles from now on (with an empty shared cache: a server just started)."""
    monkeypatch.setattr(template_cache, "_CACHES", {})
    names = []
    compile_source = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        names.append(name)
        return compile_source(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    return names


def test_environments_sharing_the_cache_compile_each_template_once_and_again_when_its_source_changes(compiles):
    cache, sources = CompiledTemplates(), {"page.j2": "{% for x in items %}{{ x * 2 }} {% endfor %}"}

    def render() -> str:  # a new environment each time, as Voilà makes one per page
        environment = jinja2.Environment(loader=jinja2.DictLoader(sources), bytecode_cache=cache)
        return environment.get_template("page.j2").render(items=[1, 2])

    assert render() == render() == "2 4 " and compiles == ["page.j2"]
    sources["page.j2"] = "{% for x in items %}{{ x * 3 }} {% endfor %}"
    assert render() == "3 6 " and compiles == ["page.j2", "page.j2"]


def test_async_and_sync_environments_do_not_share_compiled_code(compiles):
    sync, asynchronous = jinja2.Environment(), jinja2.Environment(enable_async=True)
    assert shared_cache(sync) is not shared_cache(asynchronous)
    assert shared_cache(asynchronous) is shared_cache(jinja2.Environment(enable_async=True))


@pytest.mark.parametrize("config_file", ["voila.json", "binder/jupyter_server_config.json"])
def test_voila_compiles_the_pages_templates_for_the_first_page_only_and_serves_the_same_page(config_file, compiles):
    """Both ways the lab is served (Voilà, and Voilà inside JupyterLab or Binder) name the preprocessor."""
    settings = json.loads((ROOT / config_file).read_text())
    assert PREPROCESSOR in settings["VoilaExporter"]["preprocessors"]
    notebook = nbformat.read(ROOT / "notebooks" / "05_bias_variance_regularization.ipynb", as_version=4)
    shared = Config(settings)
    shared.VoilaConfiguration.template = "dl-lab"
    alone = Config(settings)
    alone.VoilaConfiguration.template = "dl-lab"
    alone.VoilaExporter.preprocessors = []

    first = voila_page(shared, notebook)
    compiled_for_first = len(compiles)
    second = voila_page(shared, notebook)
    assert compiled_for_first >= 10 and len(compiles) == compiled_for_first, "the second page compiled templates"
    assert "voila_process(" in first and first == second == voila_page(alone, notebook)


def test_the_preprocessor_leaves_the_notebook_alone():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
    assert ShareCompiledTemplates().preprocess(notebook, {}) == (notebook, {})
