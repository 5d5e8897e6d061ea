#!/usr/bin/env python
"""Speed of the synthetic cohort writer (`neurovit_synth`): subjects/s and images/s at a given spacing.

    OMP_NUM_THREADS=1 python benchmarks/synth_speed.py --n_subjects 100 --spacing 2 --workers 1 2

Each run writes a fresh cohort into a temporary folder (deleted afterwards), with the template already loaded, so the
numbers are the steady-state rate a large cohort reaches. It also times the stages of one session (synthesis alone,
and synthesis + writing the three gzip'd NIfTI files) in this process. Results are printed as a Markdown table.
"""
import argparse, os, platform, tempfile, time
from pathlib import Path
import numpy as np
import torch
from neurovit_nb.data.synthetic import SynthConfig, load_template, sample_cohort, synth_session, write_synthetic_bids, output_grid
from neurovit_nb.data.io import save_nifti


def cpu_name():
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'unknown CPU'


def time_stages(spacing, n=20):
    "Median seconds per session for synthesis alone and synthesis + writing, in this process."
    cfg = SynthConfig(n_subjects=n, seed=123, spacing=spacing)
    tpl = load_template(spacing); rows = sample_cohort(cfg).to_dict('records')[:n]
    affine = output_grid(spacing)[1]
    synth, total = [], []
    with tempfile.TemporaryDirectory() as d:
        for i, r in enumerate(rows):
            t0 = time.perf_counter(); t1, ad, sex = synth_session(r, cfg, tpl); t1_ = time.perf_counter()
            for name, a in (('t1', t1), ('ad', ad), ('sex', sex)): save_nifti(a, affine, Path(d)/f'{i}_{name}.nii.gz', xform_code=4)
            synth.append(t1_ - t0); total.append(time.perf_counter() - t0)
    return float(np.median(synth)), float(np.median(total))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n_subjects', type=int, default=100)
    ap.add_argument('--spacing', type=float, default=2.0)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--repeats', type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(1)
    load_template(a.spacing)  # parent loads once; forked workers inherit it
    shape = output_grid(a.spacing)[0]
    synth_s, total_s = time_stages(a.spacing)
    print(f'machine: {cpu_name()}, {os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}')
    print(f'grid {shape} at {a.spacing} mm; one session in one process: synthesis {synth_s*1000:.0f} ms, '
          f'synthesis + 3 .nii.gz files {total_s*1000:.0f} ms\n')
    print('| workers | subjects | images | seconds | subjects/s | images/s |')
    print('|---|---|---|---|---|---|')
    for w in a.workers:
        for _ in range(a.repeats):
            with tempfile.TemporaryDirectory() as d:
                t0 = time.perf_counter()
                out = write_synthetic_bids(Path(d)/'cohort', n_subjects=a.n_subjects, seed=0, spacing=a.spacing, n_workers=w)
                dt = time.perf_counter() - t0
                n_img = len(list(out.glob('sub-*/ses-*/anat/*_T1w.nii.gz')))
            print(f'| {w} | {a.n_subjects} | {n_img} | {dt:.2f} | {a.n_subjects/dt:.1f} | {n_img/dt:.1f} |', flush=True)


if __name__ == '__main__': main()
