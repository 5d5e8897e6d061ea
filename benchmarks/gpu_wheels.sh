#!/usr/bin/env bash
# Download the wheels a bare GPU machine lacks (it has torch, numpy, scipy, pandas, scikit-learn, matplotlib...,
# but not MONAI, nibabel, nilearn or the notebook test tools) into a folder, for machines that reach no registry.
#
#   bash benchmarks/gpu_wheels.sh [DIR] [PYTHON_VERSION]     # default DIR=.whl, PYTHON_VERSION=3.12
#
# Copy DIR next to the repository on the GPU machine; benchmarks/gpu_check.sh installs from it with --no-index.
# Every wheel here is pure Python except where the platform tags below select a manylinux build.
set -euo pipefail
dir=${1:-.whl}
pyver=${2:-3.12}
mkdir -p "$dir"
# the versions installed in this project's .venv (tested together); one version of each, since two versions of one
# package stop the offline install
names=(monai nibabel nilearn einops fastcore execnb nbdev ghapi fastgit fastspec astunparse watchdog ipython ipython_pygments_lexers
       traitlets jedi parso matplotlib-inline pexpect ptyprocess prompt_toolkit wcwidth stack_data executing asttokens
       pure_eval plotly ipywidgets widgetsnbextension jupyterlab_widgets comm)
py=python3; [ -x .venv/bin/python ] && py=.venv/bin/python
pkgs=()
for n in "${names[@]}"; do
  v=$("$py" -c "import importlib.metadata as m, sys; print(m.version(sys.argv[1]))" "$n" 2>/dev/null || true)
  pkgs+=("$n${v:+==$v}")
done
plat=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64 --platform any)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version "$pyver" --implementation cp "${plat[@]}" -d "$dir" "${pkgs[@]}"
du -sh "$dir"
ls "$dir"
