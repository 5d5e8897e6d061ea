"""Run library notebooks the way `nbdev_test` does and keep their outputs, so the docs pages show what the examples compute.

    python tools/run_outputs.py nbs/23_train.loop.ipynb [more notebooks]

Cells flagged with `tst_flags` (slow, cuda, notest) and `#| eval: false` cells are skipped, as in the tests. Outputs are
then cleaned with `nbdev_clean`; a notebook whose file grows past `--max_kb` is refused (large images or volumes belong
in files, not in the page).
"""
import argparse, os, subprocess, sys, time
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell
from fastcore.xtras import working_directory
from nbdev.config import get_config
from nbdev.process import NBProcessor
from nbdev.frontmatter import FrontmatterProc


def run_outputs(fn:Path, max_kb:int=400) -> float:
    "Execute `fn` without the cells the tests skip, store its outputs in place; the seconds it took."
    flags = set(get_config().tst_flags.split())
    nb = NBProcessor(fn, procs=FrontmatterProc, process=True).nb

    def skip(cell):
        if cell.cell_type != 'code': return True
        direc = getattr(cell, 'directives_', {}) or {}
        if direc.get('eval:', [''])[0].lower() == 'false': return True
        return flags & direc.keys()
    os.environ['IN_TEST'] = '1'  # the same switches as under nbdev_test
    t0, shell = time.time(), CaptureShell(fn)
    with working_directory(fn.parent): shell.run_all(nb, exc_stop=True, preproc=skip)
    # The processor drops the title cell into front matter, so outputs go back into the file's own cells by index.
    before, raw = fn.read_bytes(), read_nb(fn)
    for cell in nb.cells:
        if cell.cell_type == 'code': raw.cells[cell.idx_]['outputs'] = cell.get('outputs', [])
    write_nb(raw, fn)
    subprocess.run(['nbdev_clean', '--fname', str(fn)], check=True)
    kb = fn.stat().st_size / 1024
    if kb > max_kb:
        fn.write_bytes(before)  # the notebook as it was before this run, uncommitted edits included
        sys.exit(f'{fn}: {kb:.0f} kB with outputs (limit {max_kb} kB); outputs not kept')
    return time.time() - t0


if __name__ == '__main__':
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('notebooks', nargs='+', type=Path)
    p.add_argument('--max_kb', type=int, default=400, help='largest notebook file accepted with its outputs')
    a = p.parse_args()
    for fn in a.notebooks: print(f'{fn}: outputs stored in {run_outputs(fn.resolve(), a.max_kb):.0f} s', flush=True)
