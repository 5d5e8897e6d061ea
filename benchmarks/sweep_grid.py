"""The 24-cell CPU scaling grid of the paper reproduction: 4 training-set sizes x 2 ViT widths x 3 seeds on robust_a.

    python benchmarks/sweep_grid.py                                  # then read benchmarks/sweep_grid.md
    python benchmarks/sweep_grid.py --out /tmp/grid --n_parallel 4

Runs `nbs/tutorials/paper/scaling_cpu.yaml` (the CPU defaults of `neurovit_train`, vit3d_tiny_p8 at 64 channels and
4 blocks, and the same at 32 channels and 2 blocks; 40x48x40 voxels at 4 mm; a 300-subject robust_a cohort made by the
sweep) with the local executor, and writes `sweep_grid.md`: the wall time of every `run_sweep` call on the folder
(cohort generation and preprocessing included), the training time per cell and the mean test AUC per cell group.
Run it on a new folder to time the whole grid; rerunning on a finished folder only collects the results.
"""
import argparse, logging, os, platform
import pandas as pd
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
    ap.add_argument('--compare', default=None,
                    help="another run of the same grid (its results.csv, e.g. another recipe): paired AUC differences")
    ap.add_argument('--compare_history', default=None, help="that run's sweep history (for its wall time)")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format='%(asctime)s %(message)s')
    load0 = os.getloadavg()[0]
    res = run_sweep(a.spec, a.out, n_parallel=a.n_parallel)
    load = f'load average {load0:.1f} at the start, {os.getloadavg()[0]:.1f} at the end (other work slows every cell)'
    hist = sweep_history(a.out)
    first = hist.iloc[0] if len(hist) else None
    t = res.groupby(['model', 'n_train']).time_s.median().unstack().round(0)
    lines = [f'# The 24-cell CPU scaling grid', '',
             f'`python benchmarks/sweep_grid.py --out {a.out} --n_parallel {a.n_parallel}` (spec: `{Path(a.spec).relative_to(ROOT) if Path(a.spec).is_relative_to(ROOT) else a.spec}`)', '',
             f'- machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads in the parent; torch {torch.__version__}',
             f'- cells: {len(res)}, status {dict(res.status.value_counts())}; {load}',
             '- `run_sweep` calls on the folder (wall time, cohort generation and preprocessing included):', '',
             '```', hist[['started', 'seconds', 'cells_todo', 'executor', 'n_parallel', 'cpus']].to_string(index=False) if len(hist) else '(none recorded)', '```', '',
             f'- the first call, which ran the grid from nothing: **{first.seconds / 60:.1f} min** on {first.cpus} CPUs, {first.n_parallel} cells at a time' if first is not None else '',
             '', '## Training time per cell (s, median over seeds)', '', '```', t.to_string(), '```', '',
             '## Test AUC per size (mean over seeds; the best linear baseline on the same subset beside it)', '',
             '```', summarize_results(res).round(3).to_string(index=False), '```', '',
             'The analysis (fits with intervals, strategies, baselines) is in `nbs/tutorials/paper_reproduction.ipynb`.', '']
    if a.compare: lines += compare_lines(res, pd.read_csv(a.compare), a.compare, a.compare_history, first)
    Path(a.md).write_text('\n'.join(lines))
    print('\n'.join(lines))


def compare_lines(res:pd.DataFrame, other:pd.DataFrame, other_name:str, other_history:str|None, first) -> list:
    "Paired comparison with another run of the same grid: the same cells (cohort, size, model, seed) on the same tests."
    keys = ['cohort', 'n_train', 'model', 'strategy', 'seed']
    both = res[keys + ['auc', 'auc_lo', 'auc_hi', 'time_s']].merge(
        other[keys + ['auc', 'auc_lo', 'auc_hi', 'time_s']], on=keys, suffixes=('', '_other'))
    both['diff'] = both.auc - both.auc_other
    # the other run's interval half-width: the scale on which 'the same AUC' is judged
    both['half_width'] = (both.auc_hi_other - both.auc_lo_other) / 2
    g = both.groupby(['model', 'n_train']).agg(auc=('auc', 'mean'), auc_other=('auc_other', 'mean'),
                                              mean_diff=('diff', 'mean'), half_width=('half_width', 'mean'),
                                              time_s=('time_s', 'median'), time_s_other=('time_s_other', 'median'))
    g['within its interval'] = g.mean_diff.abs() <= g.half_width
    out = ['', f'## Against `{other_name}` (paired: same cohort, split, subsets and seeds)', '',
           f'- cells paired: {len(both)}; groups whose mean AUC moved by less than the half-width of the other run\'s '
           f'intervals: {int(g["within its interval"].sum())} of {len(g)}']
    if other_history and first is not None:
        h = pd.read_csv(other_history)
        out.append(f'- wall time of the first call: {first.seconds / 60:.1f} min here, {h.seconds.iloc[0] / 60:.1f} min '
                   f'there (both on {first.cpus} CPUs, {first.n_parallel} cells at a time; load differs between runs)')
    return out + ['', '```', g.round(3).to_string(), '```', '']


if __name__ == '__main__':
    main()
