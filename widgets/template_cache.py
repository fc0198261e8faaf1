"""Voilà's page templates, compiled once per server instead of once per page.

Voilà makes a new exporter, and with it a new Jinja environment, for every page it serves, and each environment
compiles the page's chain of templates again (14–18: the lab's, Voilà's and nbconvert's): rendering them took
0.24–0.25 s of the server's CPU per page on two cores and takes 0.05–0.08 s with the cache. A Jinja bytecode
cache shared by those environments keeps each template's compiled code; Jinja still reads the template's source for
every page and compiles again when the source changed (the cache is keyed by its checksum).

Voilà has no setting for its Jinja environment, but its exporter runs the preprocessors its configuration names
(`VoilaExporter.preprocessors`: voila.json, binder/jupyter_server_config.json) on every page before it loads the
templates, as children of the exporter. `ShareCompiledTemplates` is such a preprocessor: it leaves the notebook as
it is and gives the exporter's environment the shared cache.
"""

from __future__ import annotations

from jinja2 import BytecodeCache, Environment
from jinja2.bccache import Bucket
from nbconvert.preprocessors import Preprocessor


class CompiledTemplates(BytecodeCache):
    """Compiled templates kept in memory, by template and source checksum."""

    def __init__(self):
        self._code: dict[tuple[str, str], object] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        bucket.code = self._code.get((bucket.key, bucket.checksum))

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key, bucket.checksum] = bucket.code


_CACHES: dict[tuple, CompiledTemplates] = {}


def shared_cache(environment: Environment) -> CompiledTemplates:
    """The cache for environments that compile as `environment` does (Jinja's code differs with async rendering and
    the extensions in use)."""
    return _CACHES.setdefault((environment.is_async, tuple(sorted(environment.extensions))), CompiledTemplates())


class ShareCompiledTemplates(Preprocessor):
    """Gives the exporter's Jinja environment the server's compiled templates (see the module's docstring)."""

    def preprocess(self, nb, resources):
        environment = getattr(self.parent, "environment", None)
        if isinstance(environment, Environment):
            environment.bytecode_cache = shared_cache(environment)
        return nb, resources
