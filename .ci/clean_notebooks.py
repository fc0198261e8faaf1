"""Strip notebooks for git: no outputs, counts or widget state, except in cells nbval checks.

A cell whose metadata has "keep_output": true (its source starts with "# NBVAL_CHECK_OUTPUT") keeps
its outputs *and* its execution count, since nbval skips comparing a cell that has no count.
Usage: python .ci/clean_notebooks.py NOTEBOOK...   (pre-commit runs it; exits 1 if it changed a file)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

NOTEBOOK_METADATA = ("kernelspec", "language_info", "dl-lab")  # dl-lab: what the page needs (widgets/page_head.py)


def clean(notebook: dict) -> dict:
    """The notebook as it should be committed (a new dict; the input is not changed)."""
    notebook = json.loads(json.dumps(notebook))
    notebook["metadata"] = {k: v for k, v in notebook["metadata"].items() if k in NOTEBOOK_METADATA}
    notebook["metadata"].get("language_info", {}).pop("version", None)
    count = 0
    for cell in notebook["cells"]:
        if cell["cell_type"] != "code":
            continue
        cell["metadata"] = {k: v for k, v in cell["metadata"].items() if k in ("keep_output", "tags")}
        if cell["metadata"].get("keep_output"):
            count += 1
            cell["execution_count"] = count
            cell["outputs"] = [{**o, "execution_count": count} if "execution_count" in o else o
                               for o in cell["outputs"]]
        else:
            cell["execution_count"], cell["outputs"] = None, []
    return notebook


def main(paths: list[str]) -> int:
    changed = 0
    for path in map(Path, paths):
        before = json.loads(path.read_text())
        after = clean(before)
        if after != before:
            path.write_text(json.dumps(after, indent=1, ensure_ascii=False) + "\n")
            print(f"cleaned {path}")
            changed += 1
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
