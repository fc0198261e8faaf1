"""The lab's Voilà template puts plotly's widget code in each page's head (widgets/page_head.py)."""

import json
import re
from importlib import resources

from widgets import page_head, plotly_bundle


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
    import nbformat

    plain, no_plots = nbformat.v4.new_notebook(), nbformat.v4.new_notebook(metadata={"dl-lab": {"plotly": False}})
    assert page_head.plotly_preload(plain) == page_head.plotly_preload(None) != ""
    assert page_head.plotly_preload(no_plots) == ""
    index = nbformat.read(resources.files("widgets").joinpath("../notebooks/00_index.ipynb"), 4)
    assert page_head.plotly_preload(index) == ""  # the index: links and the device, no plot
