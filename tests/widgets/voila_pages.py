"""Voilà pages rendered in the test process, without a server or a kernel."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from traitlets.config import Config

PAGE_CONFIG = {"fullStaticUrl": "/voila/static"}  # the part of Voilà's page config its templates read


def voila_page(config: Config, notebook) -> str:
    """The page Voilà's exporter renders for `notebook`, its cells as they are (no kernel: what is timed here is the
    template, not the notebook)."""
    from voila.exporter import VoilaExporter
    from voila.paths import collect_template_paths

    template = config.VoilaConfiguration.template
    exporter = VoilaExporter(template_paths=collect_template_paths(["voila", "nbconvert"], template),
                             template_name=template, config=config, base_url="/")

    async def kernel_start(nb):
        return "kernel-id"

    async def cells(nb, kernel_id):
        for cell in nb.cells:
            yield cell

    async def render() -> str:
        context = {"frontend": "voila", "main_js": "voila.js", "kernel_start": kernel_start,
                   "cell_generator": cells, "notebook_execute": None, "progressive_rendering": False}
        return "".join([chunk async for chunk, _ in exporter.generate_from_notebook_node(notebook,
                                                                                          extra_context=context,
                                                                                          page_config=PAGE_CONFIG)])

    # asyncio.run in a thread of its own: an earlier test (Playwright's sync API) may leave a loop running in this one
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, render()).result()
