"""The 24-cell CPU scaling grid of the paper reproduction: 4 training-set sizes x 2 ViT widths x 3 seeds on robust_a.

    python benchmarks/sweep_grid.py                                  # then read benchmarks/sweep_grid.md
    python benchmarks/sweep_grid.py --out /tmp/grid --n_parallel 4

Runs `nbs/tutorials/paper/scaling_cpu.yaml` (the CPU defaults of `neurovit_train`, vit3d_tiny_p8 at 64 channels and
4 blocks, and the same at 32 channels and 2 blocks; 40x48x40 voxels at 4 mm; a 300-subject robust_a cohort made by the
sweep) with the local executor, and writes `sweep_grid.md`: the wall time of every `run_sweep` call on the folder
(cohort generation and preprocessing included), the training time per cell and the mean test AUC per cell group.
Run it on a new folder to time the whole grid; rerunning on a finished folder only collects the results.
"""
import argparse, logging, platform
from pathlib import Path

import torch
from neurovit_nb.scaling.sweep import run_sweep, sweep_history
from neurovit_nb.scaling.report import summarize_results

ROOT = Path(__file__).resolve().parent.parent


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--spec', default=str(ROOT/'nbs/tutorials/paper/scaling_cpu.yaml'), help='the grid')
    ap.add_argument('--out', default=str(ROOT/'runs/paper_scaling'), help='sweep folder (resumed if it exists)')
    ap.add_argument('--n_parallel', type=int, default=2, help='cells at once (CPU threads are divided between them)')
    ap.add_argument('--md', default=str(Path(__file__).with_suffix('.md')), help='where to write the summary')
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    res = run_sweep(a.spec, a.out, n_parallel=a.n_parallel)
    hist = sweep_history(a.out)
    first = hist.iloc[0] if len(hist) else None
    t = res.groupby(['model', 'n_train']).time_s.median().unstack().round(0)
    lines = [f'# The 24-cell CPU scaling grid', '',
             f'`python benchmarks/sweep_grid.py --out {a.out} --n_parallel {a.n_parallel}` (spec: `{Path(a.spec).relative_to(ROOT) if Path(a.spec).is_relative_to(ROOT) else a.spec}`)', '',
             f'- machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads in the parent; torch {torch.__version__}',
             f'- cells: {len(res)}, status {dict(res.status.value_counts())}',
             '- `run_sweep` calls on the folder (wall time, cohort generation and preprocessing included):', '',
             '```', hist[['started', 'seconds', 'cells_todo', 'executor', 'n_parallel', 'cpus']].to_string(index=False) if len(hist) else '(none recorded)', '```', '',
             f'- the first call, which ran the grid from nothing: **{first.seconds / 60:.1f} min** on {first.cpus} CPUs, {first.n_parallel} cells at a time' if first is not None else '',
             '', '## Training time per cell (s, median over seeds)', '', '```', t.to_string(), '```', '',
             '## Test AUC per size (mean over seeds; the best linear baseline on the same subset beside it)', '',
             '```', summarize_results(res).round(3).to_string(index=False), '```', '',
             'The analysis (fits with intervals, strategies, baselines) is in `nbs/tutorials/paper_reproduction.ipynb`.', '']
    Path(a.md).write_text('\n'.join(lines))
    print('\n'.join(lines))


if __name__ == '__main__':
    main()
