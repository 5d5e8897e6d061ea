"""Group map of a run's default method beside the voxel-wise group difference: a small PNG and a CSV of overlaps.

    python nbs/experiments/maps_group.py RUN_DIR COHORT OUT_STEM [--method M]

Writes OUT_STEM.png (nilearn figure) and OUT_STEM.csv (enrichment of each map's top 10% on the effect regions
grown by 6 mm, relative to chance). Patients: the run's validation and test AD images that it classifies correctly;
the group difference uses every image of the cohort; the effect regions are where at least half of the patients
have an effect.
"""
import argparse
from pathlib import Path
import numpy as np
import pandas as pd
import nibabel as nib
from neurovit_nb.core import atomic_path
from neurovit_nb.rundir import load_run
from neurovit_nb.interpret.score import (common_brain, default_method, enrichment, group_difference, group_map, groundtruth_mask_path,
                                         run_prepare)
from neurovit_nb.interpret.viz import plot_map_rows, save_figure

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('run'); p.add_argument('cohort'); p.add_argument('out'); p.add_argument('--method', default=None)
    a = p.parse_args(argv)
    run = load_run(a.run)
    method = a.method or default_method(run.model)
    df = run.splits
    held = df[df.split.isin(['val', 'test']) & (df.label == 1)]
    g = group_map(run.model, held, run_prepare(run), method)
    n = int(g.header['descrip'].item().decode().split('n=')[1])
    patients, controls = df[df.label == 1].path.tolist(), df[df.label == 0].path.tolist()
    diff, brain = group_difference(patients, controls), common_brain(patients + controls)
    # the effect regions of the group: where at least half of the patients have an effect (each patient's own mix of lobes varies)
    region = np.mean([np.asarray(nib.load(groundtruth_mask_path(path, 'ad')).dataobj) > 0 for path in patients], 0) >= .5
    region_img = nib.Nifti1Image(region.astype(np.uint8), brain.affine)
    rows = [dict(cohort=a.cohort, map=f'{method} (mean of {n} correct patients)', n=n, **enrichment(g, region, brain, brain.affine)),
            dict(cohort=a.cohort, map='group difference |AD - CN| (no model)', n=len(patients) + len(controls), **enrichment(diff, region, brain, brain.affine))]
    out = Path(a.out)
    with atomic_path(out.with_suffix('.csv')) as tmp: pd.DataFrame(rows).round(4).to_csv(tmp, index=False)
    bg = nib.Nifti1Image(np.mean([np.asarray(nib.load(p).dataobj, np.float32) for p in controls], 0), brain.affine)
    fig = plot_map_rows({r['map']: m for r, m in zip(rows, (g, diff))}, bg, region_img, mask_img=brain, dpi=45)
    save_figure(fig, out.with_suffix('.png'))
    print(pd.DataFrame(rows).round(3).to_string())

if __name__ == '__main__': main()
