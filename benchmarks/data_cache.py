#!/usr/bin/env python
"""Preprocessing-cache throughput: `neurovit_nb.data.preprocess.VolumeCache` + `VolumeDataset` against MONAI's
`PersistentDataset` (disk) and `CacheDataset` (RAM) running the same transform chain on the same files, in one run.

    OMP_NUM_THREADS=1 python benchmarks/data_cache.py                       # 48 volumes, 91x109x91 at 2 mm -> 96^3
    python benchmarks/data_cache.py --n 200 --workers 0 4 8 --out benchmarks/data_cache.md   # a bigger host

Measured:
- build: images/s to preprocess every file into the cache (ours with `--build_workers` processes; MONAI's
  PersistentDataset fills its cache during its first pass, CacheDataset during construction with the same number of
  threads);
- read: volumes/s over one epoch of a DataLoader (batch `--bs`) for each `--workers` value, after one warm-up epoch,
  the three readers alternated so a shared machine's load hits them alike; and the per-core rate of the read work
  itself (the loop a loader worker runs: read, convert, collate) per CPU-second of this process, which is what scales
  with cores and is little affected by other jobs on a shared machine (wall-clock rates are).
Prints a markdown table; `--out FILE` also writes it, with the machine, atomically.
"""
from __future__ import annotations
import argparse, os, platform, shutil, tempfile, time
from pathlib import Path
import numpy as np
import torch
from scipy import ndimage
from torch.utils.data import DataLoader
from torch.utils.data._utils.collate import default_collate
import monai
from monai.data import CacheDataset, PersistentDataset
from monai.transforms import (Compose, CropForegroundd, EnsureChannelFirstd, EnsureTyped, LoadImaged,
                              NormalizeIntensityd, Orientationd, ResizeWithPadOrCropd, Spacingd)
from neurovit_nb.core import atomic_write
from neurovit_nb.data.io import save_nifti
from neurovit_nb.data.loaders import VolumeDataset
from neurovit_nb.data.preprocess import VolumeCache
from neurovit_nb.data.prepare import PrepConfig


def write_volumes(folder: Path, n: int, shape: tuple, seed: int = 0) -> list[str]:
    "Write `n` skull-stripped-looking random volumes (2 mm, smooth texture inside an ellipsoid, zero background)."
    rng = np.random.default_rng(seed)
    g = np.stack(np.meshgrid(*[np.linspace(-1, 1, s, dtype=np.float32) for s in shape], indexing='ij'))
    paths = []
    for i in range(n):
        radius = np.array([0.75, 0.8, 0.7], np.float32) * rng.uniform(0.9, 1.05)
        inside = ((g / radius[:, None, None, None])**2).sum(0) < 1
        tex = ndimage.zoom(rng.normal(size=tuple(s // 6 for s in shape)).astype(np.float32), 6, order=1)
        tex = np.pad(tex, [(0, s - t) for s, t in zip(shape, tex.shape)], mode='edge')[:shape[0], :shape[1], :shape[2]]
        data = np.where(inside, 300 + 60 * tex, 0).astype(np.float32)
        aff = np.diag([2., 2., 2., 1.]); aff[:3, 3] = -np.array(shape) + 1.
        paths.append(str(save_nifti(data, aff, folder / f'sub-{i:03d}_T1w.nii.gz')))
    return paths


def monai_chain(cfg: PrepConfig) -> Compose:
    "MONAI's dictionary-transform equivalent of `preprocess_volume` for the default config."
    return Compose([
        LoadImaged('image', image_only=True), EnsureChannelFirstd('image'),
        Orientationd('image', axcodes='RAS', labels=None), Spacingd('image', pixdim=cfg.spacing, mode='bilinear'),
        CropForegroundd('image', source_key='image', margin=1, allow_smaller=True),
        NormalizeIntensityd('image', nonzero=True), ResizeWithPadOrCropd('image', cfg.img_size),
        EnsureTyped('image', dtype=torch.float32, track_meta=False),
    ])


def xy_collate(batch):
    "Collate MONAI dict items into `(x, y)` like our loader."
    return default_collate([(b['image'], b['label']) for b in batch])


def epoch_rate(dl: DataLoader) -> float:
    "Volumes/s over one full pass of `dl`."
    n, t0 = 0, time.perf_counter()
    for x, _ in dl: n += x.shape[0]
    return n / (time.perf_counter() - t0)


def per_core_rate(ds, bs: int, collate, reps: int = 3) -> float:
    "Volumes per CPU-second (user + system time of this process) of the loop a loader worker runs: items, then collate."
    best = 0.0
    for _ in range(reps):
        n, t0 = 0, time.process_time()
        for s in range(0, len(ds), bs):
            x, _ = collate([ds[i] for i in range(s, min(s + bs, len(ds)))]); n += x.shape[0]
        best = max(best, n / max(time.process_time() - t0, 1e-9))
    return best


def copy_rate(bs: int, size: int, dtype: torch.dtype, reps: int = 20) -> float:
    "Volumes per CPU-second of one batch copy: a proxy for the main process's pin-memory copy of every batch."
    x = torch.randn(bs, 1, size, size, size).to(dtype); y = torch.empty_like(x)
    t0 = time.process_time()
    for _ in range(reps): y.copy_(x)
    return bs * reps / max(time.process_time() - t0, 1e-9)


def machine() -> str:
    cpu = platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    load = ', load average %.1f' % os.getloadavg()[0] if hasattr(os, 'getloadavg') else ''
    return (f'{cpu}, {os.cpu_count()} logical cores visible{load}, torch {torch.__version__}, MONAI {monai.__version__}, '
            f'OMP_NUM_THREADS={os.environ.get("OMP_NUM_THREADS", "unset")}')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--n', type=int, default=48, help='number of volumes')
    ap.add_argument('--shape', type=int, nargs=3, default=[91, 109, 91], help='source volume shape (2 mm voxels)')
    ap.add_argument('--img_size', type=int, default=96, help='cubic output size')
    ap.add_argument('--bs', type=int, default=8, help='loader batch size')
    ap.add_argument('--workers', type=int, nargs='+', default=[0, 2], help='DataLoader worker counts to time')
    ap.add_argument('--build_workers', type=int, default=os.cpu_count(), help='processes (ours) / threads (CacheDataset) to build')
    ap.add_argument('--dir', default=None, help='work folder (default: a temporary one, removed at the end)')
    ap.add_argument('--out', default=None, help='also write the markdown results here')
    a = ap.parse_args()
    torch.set_num_threads(1)
    work = Path(a.dir or tempfile.mkdtemp(prefix='data_cache_bench_'))
    try:
        cfg = PrepConfig(img_size=(a.img_size,) * 3, spacing=(2., 2., 2.), intensity='zscore', dtype='float16')
        print(f'writing {a.n} volumes {tuple(a.shape)} ...', flush=True)
        paths = write_volumes(work / 'raw', a.n, tuple(a.shape))
        items = [dict(image=p, label=i % 2) for i, p in enumerate(paths)]
        rows = []

        t0 = time.perf_counter(); cache = VolumeCache(work / 'ours', cfg)
        cache.build(paths, n_workers=a.build_workers, progress=False)
        build_ours = a.n / (time.perf_counter() - t0)
        ours = VolumeDataset(__import__('pandas').DataFrame(dict(path=paths, label=[i % 2 for i in range(a.n)])), cache)
        ours16 = VolumeDataset(ours.df, cache, dtype=torch.float16)
        cache32 = VolumeCache(work / 'ours', cfg.replace(dtype='float32')); cache32.build(paths, n_workers=a.build_workers, progress=False)
        ours32 = VolumeDataset(ours.df, cache32)
        print(f'ours built: {build_ours:.1f} img/s', flush=True)

        chain = monai_chain(cfg)
        pers = PersistentDataset(items, chain, cache_dir=work / 'persistent')
        t0 = time.perf_counter(); [pers[i] for i in range(a.n)]  # first pass preprocesses and writes the cache
        build_pers = a.n / (time.perf_counter() - t0)
        print(f'PersistentDataset built: {build_pers:.1f} img/s', flush=True)
        t0 = time.perf_counter(); ram = CacheDataset(items, chain, cache_rate=1.0, num_workers=a.build_workers, progress=False)
        build_ram = a.n / (time.perf_counter() - t0)
        print(f'CacheDataset built: {build_ram:.1f} img/s', flush=True)

        x_ours, x_pers = ours[0][0], pers[0]['image']
        assert tuple(x_ours.shape) == tuple(x_pers.shape), (x_ours.shape, x_pers.shape)
        agree = float(np.corrcoef(x_ours.flatten().numpy(), x_pers.flatten().numpy())[0, 1])

        readers = {'VolumeCache float16 -> float32 tensors': (ours, None), 'VolumeCache float16 -> float16 tensors': (ours16, None),
                   'VolumeCache float32 -> float32 tensors': (ours32, None),
                   'MONAI PersistentDataset (disk)': (pers, xy_collate), 'MONAI CacheDataset (RAM)': (ram, xy_collate)}
        loaders = {(k, w): DataLoader(ds, batch_size=a.bs, shuffle=False, num_workers=w, collate_fn=c,
                                      persistent_workers=w > 0) for k, (ds, c) in readers.items() for w in a.workers}
        for dl in loaders.values(): epoch_rate(dl)  # warm-up: workers start, page cache fills
        core = {k: per_core_rate(ds, a.bs, c or default_collate) for k, (ds, c) in readers.items()}
        print('per core:', {k: round(v) for k, v in core.items()}, flush=True)
        rates = {key: [] for key in loaders}
        for _ in range(3):
            for key, dl in loaders.items(): rates[key].append(epoch_rate(dl))
        rate = {key: sorted(v)[1] for key, v in rates.items()}  # median of 3 alternated epochs
        del loaders

        build = {'VolumeCache float16 -> float32 tensors': build_ours, 'VolumeCache float16 -> float16 tensors': build_ours,
                 'VolumeCache float32 -> float32 tensors': build_ours,
                 'MONAI PersistentDataset (disk)': build_pers, 'MONAI CacheDataset (RAM)': build_ram}
        hdr = '| reader | build (img/s) | read per CPU-second (vol/s) | ' + ' | '.join(f'read, loader {w} worker(s) (vol/s)' for w in a.workers) + ' |'
        lines = [hdr, '|' + '---|' * (3 + len(a.workers))]
        for k in readers:
            lines.append(f'| {k} | {build[k]:.1f} | {core[k]:.0f} | ' + ' | '.join(f'{rate[(k, w)]:.0f}' for w in a.workers) + ' |')
        f32 = max(core['VolumeCache float16 -> float32 tensors'], core['VolumeCache float32 -> float32 tensors'])
        best_ours = max(f32, core['VolumeCache float16 -> float16 tensors'])
        pin32, pin16 = copy_rate(a.bs, a.img_size, torch.float32), copy_rate(a.bs, a.img_size, torch.float16)
        ratio_read = f32 / core['MONAI PersistentDataset (disk)']
        summary = [
            '', f'Setup: {a.n} volumes {tuple(a.shape)} at 2 mm -> {a.img_size}^3 (pad/crop, brain z-score), cached as float16; '
            f'batch {a.bs}; build with {a.build_workers} process(es)/thread(s) (the float32 cache is built the same way, not timed). '
            f'Ours and MONAI agree voxel-wise (r = {agree:.4f}).',
            f'Ratios, ours / MONAI PersistentDataset: build {build_ours / build_pers:.2f}x; read per core (float32 tensors) '
            f'{ratio_read:.1f}x, (float16 tensors) {core["VolumeCache float16 -> float16 tensors"] / core["MONAI PersistentDataset (disk)"]:.1f}x.',
            f'Extrapolation (not a measurement): 16 cores x per-core rate = {16 * f32:.0f} vol/s as float32 tensors, '
            f'{16 * best_ours:.0f} vol/s as float16 tensors, of {a.img_size}^3 before loader overheads, against the 2,000 vol/s goal.',
            f'The main process copies every batch once more (pin memory, single thread): {pin32:.0f} vol/s per CPU-second as '
            f'float32, {pin16:.0f} as float16, measured here.',
            '', f'Machine: {machine()}.']
        text = '\n'.join(lines + summary)
        print(text)
        if a.out:
            with atomic_write(a.out) as f: f.write(text + '\n')
    finally:
        if a.dir is None: shutil.rmtree(work, ignore_errors=True)


if __name__ == '__main__':
    main()
