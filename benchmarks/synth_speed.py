#!/usr/bin/env python
"""Speed of the synthetic cohort writer (`neurovit_synth`): subjects/s and images/s at a given spacing.

    OMP_NUM_THREADS=1 python benchmarks/synth_speed.py --n_subjects 100 --spacing 2 --workers 1 2

Each run writes a fresh cohort into a temporary folder (deleted afterwards), with the template already loaded, so the
numbers are the steady-state rate a large cohort reaches. Besides wall-clock time it records the CPU time spent (this
process and its workers), because on a shared machine the wall clock mostly measures the other users: the CPU time per
subject gives the rate the same cores reach when idle (`cores / cpu_s_per_subject`). It also times one session's
stages (synthesis alone, and synthesis + writing its three .nii.gz files). Results are printed as a Markdown table.

`--write_only` adds, in the same run and with the same workers, the disk-speed reference: the same cohort's NIfTI files
(made beforehand, in memory) written alone through the same BIDS writer, so the ratio cohort time / writing time says
how far the generator is from disk speed. `--robust PRESET` does the same for `make_robust_cohort`.
"""
import argparse, os, platform, resource, tempfile, time
from pathlib import Path
import numpy as np
import torch
from neurovit_nb.data.synthetic import SynthConfig, sample_cohort, synth_session, write_synthetic_bids
from neurovit_nb.data.template import load_template, output_grid
from neurovit_nb.data.io import save_nifti
from neurovit_nb.data.bids import image_path, write_image
from neurovit_nb.data.synthetic import process_pool
from neurovit_nb.data import robust


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
    synth, total = [], []  # CPU seconds
    with tempfile.TemporaryDirectory() as d:
        for i, r in enumerate(rows):
            t0 = time.process_time(); t1, ad, sex = synth_session(r, cfg, tpl); t1_ = time.process_time()
            for name, a in (('t1', t1), ('ad', ad), ('sex', sex)): save_nifti(a, affine, Path(d)/f'{i}_{name}.nii.gz', xform_code=4)
            synth.append(t1_ - t0); total.append(time.process_time() - t0)
    return float(np.median(synth)), float(np.median(total))


def cpu_seconds():
    "CPU time of this process and of its finished child processes."
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _write_arrays(args):
    "Write one subject's prepared arrays (T1w + masks) through the BIDS writer; return the number of images."
    root, items = args
    for sub, ses, arrays, affine, kw in items:
        for (suffix, desc), a in arrays.items():
            write_image(image_path(root if desc is None else root/'derivatives'/'groundtruth', sub, ses, suffix, desc=desc), a, affine, **kw)
    return len(items)


def write_only(jobs, workers):
    "Wall and CPU seconds to write prepared arrays with `workers` processes (0: this process)."
    with tempfile.TemporaryDirectory() as d:
        t0, c0 = time.perf_counter(), cpu_seconds()
        todo = [(Path(d), items) for items in jobs]
        if workers == 0: n = sum(map(_write_arrays, todo))
        else:
            with process_pool(workers) as ex: n = sum(ex.map(_write_arrays, todo))
        return time.perf_counter() - t0, cpu_seconds() - c0, n


def synth_arrays(n_subjects, spacing):
    "The synthetic cohort's arrays, per subject, as `_write_arrays` takes them."
    cfg = SynthConfig(n_subjects=n_subjects, seed=0, spacing=spacing); tpl = load_template(spacing); affine = output_grid(spacing)[1]
    jobs = []
    for sub, g in sample_cohort(cfg).groupby('subject', sort=True):
        items = []
        for r in g.to_dict('records'):
            t1, ad, sex = synth_session(r, cfg, tpl)
            items.append((sub, r['session'], {('T1w', None): t1, ('mask', 'ad'): ad, ('mask', 'sex'): sex}, affine, dict(xform_code=4)))
        jobs.append(items)
    return jobs


def robust_arrays(preset, n_subjects):
    "A robustness cohort's arrays, per subject (on-disk voxel order), as `_write_arrays` takes them."
    rec = robust.ROBUST_PRESETS[preset]; jobs = []
    for sub, g in robust.sample_robust_cohort(rec, n_subjects, 0).groupby('subject', sort=True):
        items = []
        for r in g.to_dict('records'):
            aff = robust.session_geometry(r, rec)['affine']; t1, ad, codes = robust.synth_robust_session(r, rec)
            arrays = {k: robust._store(a, aff, rec)[0] for k, a in ((('T1w', None), t1), (('mask', 'ad'), ad), (('dseg', 'effects'), codes))}
            items.append((sub, r['session'], arrays, robust._store(t1, aff, rec)[1], {}))
        jobs.append(items)
    return jobs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n_subjects', type=int, default=100)
    ap.add_argument('--spacing', type=float, default=2.0)
    ap.add_argument('--workers', type=int, nargs='+', default=[1, 2])
    ap.add_argument('--repeats', type=int, default=1)
    ap.add_argument('--write_only', action='store_true', help='also time writing the same files alone (disk speed)')
    ap.add_argument('--robust', default=None, help='also time make_robust_cohort with this preset (and its writing alone)')
    a = ap.parse_args()
    torch.set_num_threads(1)
    load_template(a.spacing)  # parent loads once; forked workers inherit it
    shape = output_grid(a.spacing)[0]
    synth_s, total_s = time_stages(a.spacing)
    print(f'machine: {cpu_name()}, {os.cpu_count()} logical CPUs, load average {os.getloadavg()[0]:.1f}; torch {torch.__version__}')
    print(f'grid {shape} at {a.spacing} mm; one session, CPU time: synthesis {synth_s*1000:.0f} ms, '
          f'synthesis + 3 .nii.gz files {total_s*1000:.0f} ms\n')
    print('| workers | subjects | images | wall s | subjects/s (wall) | CPU s / subject | subjects/s on idle cores (= workers / CPU s per subject) |')
    print('|---|---|---|---|---|---|---|')
    for w in a.workers:
        for _ in range(a.repeats):
            with tempfile.TemporaryDirectory() as d:
                t0, c0 = time.perf_counter(), cpu_seconds()
                out = write_synthetic_bids(Path(d)/'cohort', n_subjects=a.n_subjects, seed=0, spacing=a.spacing, n_workers=w)
                dt, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                n_img = len(list(out.glob('sub-*/ses-*/anat/*_T1w.nii.gz')))
            per = cpu / a.n_subjects
            print(f'| {w} | {a.n_subjects} | {n_img} | {dt:.2f} | {a.n_subjects/dt:.1f} | {per:.3f} | {w/per:.1f} |', flush=True)
            if a.write_only:
                jobs = synth_arrays(a.n_subjects, a.spacing)
                wdt, wcpu, n = write_only(jobs, w)
                print(f'| {w} (writing alone) | {a.n_subjects} | {n} | {wdt:.2f} | {a.n_subjects/wdt:.1f} | {wcpu/a.n_subjects:.3f} | '
                      f'{w/(wcpu/a.n_subjects):.1f} | ratio cohort/writing: wall {dt/wdt:.1f}, CPU {cpu/wcpu:.1f} |', flush=True)
    if a.robust:
        print(f'\n{a.robust}, load average {os.getloadavg()[0]:.1f}\n')
        robust._tissue_maps(); rec = robust.ROBUST_PRESETS[a.robust]; robust._effect_maps(rec.regions, tuple(rec.lobes))
        if rec.head: robust._head_maps()
        print('| workers | subjects | images | wall s | subjects/s (wall) | CPU s / subject | writing alone: wall s | CPU s / subject | ratio wall | ratio CPU |')
        print('|---|---|---|---|---|---|---|---|---|---|')
        for w in a.workers:
            with tempfile.TemporaryDirectory() as d:
                t0, c0 = time.perf_counter(), cpu_seconds()
                out = robust.make_robust_cohort(Path(d)/'cohort', a.robust, n_subjects=a.n_subjects, seed=0, n_workers=w)
                dt, cpu = time.perf_counter() - t0, cpu_seconds() - c0
                n_img = len(list(out.glob('sub-*/ses-*/anat/*_T1w.nii.gz')))
            wdt, wcpu, _ = write_only(robust_arrays(a.robust, a.n_subjects), w)
            print(f'| {w} | {a.n_subjects} | {n_img} | {dt:.2f} | {a.n_subjects/dt:.2f} | {cpu/a.n_subjects:.3f} | {wdt:.2f} | '
                  f'{wcpu/a.n_subjects:.3f} | {dt/wdt:.1f} | {cpu/wcpu:.1f} |', flush=True)


if __name__ == '__main__': main()
