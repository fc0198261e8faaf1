"""The lab's Voilà template puts plotly's widget code in each page's head (widgets/page_head.py)."""

import asyncio
import json
import re
from importlib import resources

import nbformat

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


def render_page(notebook, tmp_path) -> str:
    """The page Voilà's exporter streams for `notebook` with the lab's template (installed under `tmp_path`), the
    kernel's part stood in for: a kernel id, and cells that come back as they went."""
    from traitlets.config import Config
    from voila.exporter import VoilaExporter
    from voila.paths import _default_root_dirs, collect_template_paths

    page_head.install_template(tmp_path)
    paths = collect_template_paths(["voila", "nbconvert"], page_head.TEMPLATE,
                                   root_dirs=[str(tmp_path / "share" / "jupyter"), *_default_root_dirs()])
    filters = {"lab_plotly_preload": "widgets.page_head.plotly_preload"}
    exporter = VoilaExporter(template_paths=paths, template_name=page_head.TEMPLATE, contents_manager=None,
                             config=Config({"VoilaExporter": {"filters": filters}}), base_url="/")
    page_config = {"baseUrl": "/", "fullStaticUrl": "/voila/static", "fullLabextensionsUrl": "/voila/labextensions"}
    resources = {"base_url": "/", "theme": "light", "template": page_head.TEMPLATE, "metadata": {"name": "nb"},
                 "page_config": page_config}

    async def cells(nb, kernel_id):
        for cell in nb.cells:
            yield cell

    extra = {"frontend": "voila", "main_js": "voila.js", "kernel_start": lambda nb: "kernel-1",
             "cell_generator": cells, "progressive_rendering": False}

    async def render() -> str:
        parts = exporter.generate_from_notebook_node(notebook, resources=resources, extra_context=extra,
                                                     page_config=page_config)
        return "".join([html async for html, _ in parts])

    return asyncio.run(render())


def test_voilas_front_end_comes_with_the_first_cell_and_never_twice(tmp_path):
    """Rendered by Voilà's own exporter: the template puts voila.js after the page's config (which its first lines
    read and keep), before the cells that follow, and nowhere else but in the footer's fallback (for a notebook
    without cells)."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# A"), nbformat.v4.new_code_cell("1")])
    html = render_page(notebook, tmp_path)
    config, front_end = html.index('id="jupyter-config-data"'), html.index('/voila.js" data-lab-front-end')
    first_cell, second_cell = html.index('cell-index="1"'), html.index('cell-index="2"')
    assert config < front_end < first_cell < second_cell
    assert html.count("voila.js") == 2  # the tag, and the footer's fallback, which finds it and adds nothing
    assert html.count('id="jupyter-config-data"') == 1


def test_a_notebook_without_cells_gets_voilas_front_end_from_the_footer(tmp_path):
    html = render_page(nbformat.v4.new_notebook(), tmp_path)
    assert "data-lab-front-end>" not in html
    fallback = html.index('if (!document.querySelector("script[data-lab-front-end]"))')
    assert html.index('id="jupyter-config-data"') < fallback and '"/voila/static/voila.js"' in html[fallback:]


def test_voila_and_binder_use_the_template_and_its_filter():
    root = resources.files("widgets").joinpath("..")
    for path in ("voila.json", "binder/jupyter_server_config.json"):
        config = json.loads(root.joinpath(path).read_text())
        assert config["VoilaConfiguration"]["template"] == page_head.TEMPLATE, path
        assert config["VoilaExporter"]["filters"] == {"lab_plotly_preload": "widgets.page_head.plotly_preload"}, path
