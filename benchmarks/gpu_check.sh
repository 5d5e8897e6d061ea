#!/usr/bin/env bash
# The prepared GPU check: install what a bare GPU machine lacks from wheels, then run benchmarks/gpu_check.py.
#
#   bash benchmarks/gpu_wheels.sh .whl          # once, on a machine that reaches PyPI (see that script)
#   bash benchmarks/gpu_check.sh OUT            # on the GPU machine, from the repository root (about 8 minutes)
#   bash benchmarks/gpu_check.sh OUT --smoke    # tiny shapes on a CPU: checks the script end to end
#
# Wheels are taken from $NEUROVIT_WHEELS (default .whl/) when that folder exists, installed with --no-index into
# /tmp/neurovit_site, which goes first on PYTHONPATH; the repository itself is imported from its folder.
set -uo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bash benchmarks/gpu_check.sh OUT [--smoke] [--steps a,b]" >&2; exit 2; }
py=${PYTHON:-python3}
[ -x .venv/bin/python ] && [ -z "${PYTHON:-}" ] && py=.venv/bin/python
wheels=${NEUROVIT_WHEELS:-.whl}
if [ -d "$wheels" ] && ls "$wheels"/*.whl >/dev/null 2>&1; then
  site=/tmp/neurovit_site
  "$py" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target "$site" "$wheels"/*.whl \
    || { echo "gpu_check: installing the wheels in $wheels failed" >&2; exit 1; }
  export PYTHONPATH="$site${PYTHONPATH:+:$PYTHONPATH}"
  export PATH="$site/bin:$PATH"
fi
"$py" -c "import monai, nibabel, nilearn" 2>/dev/null \
  || { echo "gpu_check: MONAI, nibabel or nilearn missing: run benchmarks/gpu_wheels.sh on a machine with PyPI and bring .whl/" >&2; exit 1; }
exec "$py" benchmarks/gpu_check.py "$@"
