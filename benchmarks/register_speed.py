"""Registration of whole heads to MNI152 at 2 mm: SimpleITK (the package's stage), the same steps in ANTsPy, and ANTsPy's defaults.

Seconds per image (N4 + registration + brain extraction, 2 threads) and errors against known rigid poses.
Run: python benchmarks/register_speed.py [n_heads]   -> writes benchmarks/register_speed.md
"""
import os, sys, tempfile, time
os.environ.setdefault('ITK_GLOBAL_DEFAULT_NUMBER_OF_THREADS', '2')
os.environ.setdefault('OMP_NUM_THREADS', '2')
from pathlib import Path
import numpy as np
import pandas as pd
import SimpleITK as sitk
from scipy import ndimage
from neurovit_nb.data import register as R
from neurovit_nb.data.io import Volume

THREADS, SPACING = 2, 2.0
sitk.ProcessObject.SetGlobalDefaultNumberOfThreads(THREADS)

def _ants_img(ants, data, affine):
    lps = R._LPS @ affine; sp = np.linalg.norm(lps[:3, :3], axis=0)
    return ants.from_numpy(np.ascontiguousarray(data, np.float32), origin=lps[:3, 3].tolist(), spacing=sp.tolist(), direction=lps[:3, :3] / sp)

def _ants_w2t(ants, path):
    "scan -> template (RAS) matrix of an ANTs affine file (which maps template LPS points to scan LPS points)."
    tx = ants.read_transform(path); p, c = np.asarray(tx.parameters, float), np.asarray(tx.fixed_parameters, float)
    m, t = p[:9].reshape(3, 3), p[9:12]
    a = np.eye(4); a[:3, :3] = m; a[:3, 3] = t + c - m @ c
    return np.linalg.inv(R._LPS @ a @ R._LPS)

def ants_default(ants, vol):
    "ANTsPy as a new user calls it: N4 at its defaults, `registration(type_of_transform='Affine')`, the template mask carried back."
    t, bm = R.mni_template(SPACING)
    v = R._isotropic(vol, SPACING)
    fixed, moving = _ants_img(ants, t.data, t.affine), _ants_img(ants, v.data, v.affine)
    moving = ants.n4_bias_field_correction(moving)
    r = ants.registration(fixed=fixed, moving=moving, type_of_transform='Affine')
    ants.apply_transforms(fixed=moving, moving=_ants_img(ants, bm.astype(np.float32), t.affine), transformlist=r['fwdtransforms'], whichtoinvert=[True])
    return _ants_w2t(ants, r['fwdtransforms'][0])

def ants_staged(ants, vol, tmp):
    "The package's steps in ANTsPy: same initialisation, fixed mask, rigid (Mattes), brain mask carried back, N4 in the brain, affine (GC)."
    t, bm = R.mni_template(SPACING)
    v = R._isotropic(vol, SPACING); hm = R.head_mask(v.data)
    fixed, moving = _ants_img(ants, t.data, t.affine), _ants_img(ants, v.data * hm, v.affine)
    fmask = _ants_img(ants, ndimage.binary_dilation(bm, iterations=3).astype(np.float32), t.affine)
    tc = (np.argwhere(bm) @ t.affine[:3, :3].T + t.affine[:3, 3]).mean(0); hc = R._brain_centre_guess(v.affine, hm)
    init = ants.create_ants_transform(transform_type='Euler3DTransform', center=(R._LPS[:3, :3] @ tc).tolist(),
                                      translation=(R._LPS[:3, :3] @ (hc - tc)).tolist())
    ants.write_transform(init, f'{tmp}/init.mat')
    r1 = ants.registration(fixed=fixed, moving=moving, type_of_transform='Rigid', initial_transform=[f'{tmp}/init.mat'], mask=fmask,
                           aff_metric='mattes', aff_iterations=(200, 200), aff_shrink_factors=(4, 2), aff_smoothing_sigmas=(3, 1.5),
                           aff_random_sampling_rate=0.25)
    brain = ants.apply_transforms(fixed=moving, moving=_ants_img(ants, ndimage.binary_dilation(bm).astype(np.float32), t.affine),
                                  transformlist=r1['fwdtransforms'], whichtoinvert=[True]).numpy() > 0.5
    corr = ants.n4_bias_field_correction(_ants_img(ants, v.data, v.affine), mask=_ants_img(ants, brain.astype(np.float32), v.affine),
                                         shrink_factor=4, convergence={'iters': [50, 50, 50], 'tol': 1e-7})
    r2 = ants.registration(fixed=fixed, moving=_ants_img(ants, corr.numpy() * brain, v.affine), type_of_transform='Affine',
                           initial_transform=r1['fwdtransforms'], mask=fmask, aff_metric='GC', aff_iterations=(60, 60),
                           aff_shrink_factors=(2, 1), aff_smoothing_sigmas=(1, 0), aff_random_sampling_rate=0.1)
    return _ants_w2t(ants, r2['fwdtransforms'][0])

def qc_of(vol, w2t):
    t, _ = R.mni_template(SPACING)
    vox = np.linalg.inv(vol.affine) @ np.linalg.inv(w2t) @ t.affine
    return R.qc_scores(ndimage.affine_transform(vol.data, vox[:3, :3], vox[:3, 3], output_shape=t.shape, order=1), SPACING)['ncc']

def main(n=6):
    import ants
    rng = np.random.default_rng(2026)
    poses = [R.rigid_matrix(rng.uniform(-15, 15, 3), rng.uniform(-25, 25, 3)) for _ in range(n)]
    heads = [R.synthetic_head(p, spacing=SPACING, seed=i) for i, p in enumerate(poses)]
    rows, load0 = [], os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        for i, (vol, pose) in enumerate(zip(heads, poses)):
            for engine in ('SimpleITK (package)', 'ANTsPy, same steps', 'ANTsPy defaults'):
                t0, c0 = time.perf_counter(), time.process_time()
                if engine.startswith('SimpleITK'): w2t = R.register_to_template(vol, spacing=SPACING).world_to_template
                elif engine == 'ANTsPy, same steps': w2t = ants_staged(ants, vol, tmp)
                else: w2t = ants_default(ants, vol)
                sec, cpu = time.perf_counter() - t0, time.process_time() - c0
                rows.append(dict(engine=engine, head=i, seconds=sec, cpu_seconds=cpu, ncc=qc_of(vol, w2t), **R.pose_error(w2t, np.linalg.inv(pose), 2.0)))
                print(rows[-1], flush=True)
    load1 = os.getloadavg()
    df = pd.DataFrame(rows)
    summ = df.groupby('engine', sort=False).agg(s_per_image=('seconds', 'mean'), s_max=('seconds', 'max'), cpu_s_per_image=('cpu_seconds', 'mean'), mean_mm=('mean_mm', 'mean'),
                                                worst_mean_mm=('mean_mm', 'max'), worst_max_mm=('max_mm', 'max'), rot_deg=('rot_deg', 'mean'),
                                                worst_rot_deg=('rot_deg', 'max'), ncc=('ncc', 'mean')).round(3)
    md = [f'# Registration of whole heads to MNI152 at 2 mm: speed and accuracy', '',
          f'{n} synthetic whole heads (`synthetic_head`: MNI152 brain with CSF, skull, scalp, neck; 224 x 256 x 256 mm at 2 mm; '
          'random rigid pose, rotations uniform in +-15 degrees about each axis and shifts in +-25 mm; log bias sd 0.3; Rician noise 2 %), '
          f'each registered by three engines. Seconds per image cover N4 + registration + brain extraction (from the loaded image), '
          f'{THREADS} threads. Errors against the known pose: distance over the template brain voxels (mm) and residual rotation (degrees). '
          'Goals: <= 10 s per image, <= 1 mm and 1 degree.', '',
          f'Machine: {os.cpu_count()} cores, shared; load average {load0[0]:.1f} at the start and {load1[0]:.1f} at the end '
          '(wall-clock timings on a loaded machine are upper bounds). `cpu_s_per_image` is the CPU time the process used (user + system, '
          'all its threads): it does not grow with the load, and on an idle machine with 2 cores the wall time lies between half of it and all of it.', '',
          summ.to_markdown(), '', '## Per image', '', df.round(3).to_markdown(index=False), '']
    Path(__file__).with_suffix('.md').write_text('\n'.join(md))
    print(summ.to_string())

if __name__ == '__main__': main(int(sys.argv[1]) if len(sys.argv) > 1 else 6)
