# Sourced by .ci/serve and .ci/test: makes .venv (if missing), activates it and installs the lab.
# Usage: source .ci/setup.sh [extra]    e.g. `source .ci/setup.sh test` installs the test extra too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x .venv/bin/python ]; then
    "${PYTHON:-python3}" -m venv .venv
fi
# shellcheck disable=SC1091
source .venv/bin/activate
python -m pip install --quiet --upgrade pip
source .ci/torch.sh
python -m pip install --quiet -e ".${1:+[$1]}"
python -m widgets.page_head >/dev/null  # the lab's Voilà template (named in voila.json)
# the lab's own bytecode, compiled once: where Python may not write it as it imports (PYTHONDONTWRITEBYTECODE, as
# here and in many images; a read-only checkout) every kernel would compile lab/ and widgets/ again (0.2-0.3 s)
python -m compileall -q lab widgets
