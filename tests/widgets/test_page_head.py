"""The lab's Voilà template puts plotly's widget code in each page's head, and Voilà's own code before the first cell
(widgets/page_head.py)."""

import json
import re
from importlib import resources
from pathlib import Path

import nbformat
from traitlets.config import Config
from voila_pages import voila_page

from widgets import page_head, plotly_bundle

ROOT = Path(__file__).resolve().parents[2]


def script_body(html: str) -> str:
    found = re.fullmatch(r'<script type="module" async>\n(.*)</script>\n', html, re.DOTALL)
    assert found, html[:200]
    return found.group(1)


def test_the_head_script_carries_plotlys_code_intact_and_fills_the_figures_slot():
    import plotly

    body = script_body(page_head.plotly_preload())
    literal = re.search(r"\nfill\((\".*\")\);\n$", body, re.DOTALL).group(1)
    assert json.loads(literal) == plotly_bundle.bundle_source()  # JSON string syntax is JS string syntax here
    key = plotly_bundle.bundle_key(plotly_bundle.bundle_source(), plotly.__version__)
    assert f"Symbol.for({json.dumps(key)})" in body  # the slot the figures' loaders wait on


def test_nothing_inside_the_script_can_end_it_early():
    # inside a <script> element, "</script" would end it and "<!--" changes how the HTML parser reads on
    source = 'const a = "</script><!-- <script>"; export default a;'
    body = script_body(page_head.preload_script(source, "7.0"))
    assert "</script" not in body.lower() and "<!--" not in body
    literal = re.search(r"\nfill\((\".*\")\);\n$", body, re.DOTALL).group(1)
    assert json.loads(literal) == source


def test_the_template_is_installed_where_voila_looks(tmp_path):
    target = page_head.install_template(tmp_path)
    assert target == tmp_path / "share" / "jupyter" / "voila" / "templates" / "dl-lab"
    source = resources.files("widgets").joinpath("voila_template")
    for name in ("conf.json", "index.html.j2"):
        assert (target / name).read_text() == source.joinpath(name).read_text()
    assert json.loads((target / "conf.json").read_text()) == {"base_template": "lab"}
    template = (target / "index.html.j2").read_text()
    assert "extends 'voila/templates/lab/index.html.j2'" in template and "lab_plotly_preload" in template


def test_voila_and_binder_use_the_template_and_its_filter():
    root = resources.files("widgets").joinpath("..")
    for path in ("voila.json", "binder/jupyter_server_config.json"):
        config = json.loads(root.joinpath(path).read_text())
        assert config["VoilaConfiguration"]["template"] == page_head.TEMPLATE, path
        assert config["VoilaExporter"]["filters"] == {"lab_plotly_preload": "widgets.page_head.plotly_preload"}, path


def test_a_notebook_that_says_it_draws_no_plot_gets_no_preload():
    plain, no_plots = nbformat.v4.new_notebook(), nbformat.v4.new_notebook(metadata={"dl-lab": {"plotly": False}})
    assert page_head.plotly_preload(plain) == page_head.plotly_preload(None) != ""
    assert page_head.plotly_preload(no_plots) == ""
    index = nbformat.read(resources.files("widgets").joinpath("../notebooks/00_index.ipynb"), 4)
    assert page_head.plotly_preload(index) == ""  # the index: links and the device, no plot


FRONT_END = re.compile(r'<script src="/voila/static/voila\.js"[^>]*></script>')


def lab_and_voilas_pages(notebook) -> tuple[str, str]:
    """`notebook`'s page through the lab's template and through Voilà's own lab template, with voila.json."""
    settings = json.loads((ROOT / "voila.json").read_text())
    voilas = Config(settings)
    voilas.VoilaConfiguration.template = "lab"
    return voila_page(Config(settings), notebook), voila_page(voilas, notebook)


def test_voilas_front_end_is_loaded_once_as_soon_as_the_pages_config_is_there():
    """Before the first cell, which Voilà sends only after the kernel has run it: a browser with nothing else to do
    loads the code while the notebook runs. The rest of the page is Voilà's own, plotly's code in the head aside."""
    notebook = nbformat.read(ROOT / "notebooks" / "05_bias_variance_regularization.ipynb", as_version=4)
    lab, voilas = lab_and_voilas_pages(notebook)
    [script] = FRONT_END.findall(lab)
    assert " async" in script  # the parser goes on to the cells while it loads
    assert lab.index('id="jupyter-config-data"') < lab.index(script) < lab.index('cell-index="1"')
    assert FRONT_END.findall(voilas) == ['<script src="/voila/static/voila.js"></script>']
    assert voilas.index(FRONT_END.findall(voilas)[0]) > voilas.index("window.voila_finish()")  # where Voilà has it

    def rest(page: str) -> str:  # with the template's name (in the paths of its static files) as Voilà's
        page = FRONT_END.sub("", page.replace(page_head.plotly_preload(notebook), ""))
        return re.sub(r"\s+", " ", page.replace("/templates/dl-lab/", "/templates/lab/"))

    assert rest(lab) == rest(voilas)


def test_a_notebook_without_cells_still_gets_voilas_front_end_once():
    lab, _ = lab_and_voilas_pages(nbformat.v4.new_notebook())
    [script] = FRONT_END.findall(lab)
    assert lab.index("window.voila_finish()") < lab.index(script) < lab.index("</body>")
