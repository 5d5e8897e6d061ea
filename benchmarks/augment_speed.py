#!/usr/bin/env python
"""Augmentation throughput: `neurovit_nb.data.augment.BatchAugment` on whole batches against MONAI's per-sample array
transforms (RandAffine, RandAdjustContrast, RandBiasField, RandGaussianNoise) doing the same work, in the same run.

    OMP_NUM_THREADS=1 python benchmarks/augment_speed.py                     # CPU, 1 thread, B=8 at 64^3 and 96^3
    python benchmarks/augment_speed.py --device cuda --sizes 96 128 --reps 20   # a GPU host

Every augmentation is forced on (probability 1) for both, with the same magnitudes. MONAI runs per sample on the CPU,
as it would inside DataLoader workers (its per-core rate times the number of workers is the loader's ceiling);
BatchAugment runs on `--device`. Prints a markdown table; `--out FILE` also writes it (atomically) with the machine.
"""
from __future__ import annotations
import argparse, math, os, platform, time
from pathlib import Path
import torch
from monai.transforms import Compose, RandAdjustContrast, RandAffine, RandBiasField, RandGaussianNoise
from neurovit_nb.core import atomic_write, get_device
from neurovit_nb.data.augment import AugmentConfig, BatchAugment

ROTATION, SCALE, TRANSLATE, GAMMA, BIAS, NOISE = 10.0, 0.1, 0.05, (0.8, 1.25), 0.3, 0.05


def monai_pipeline(size: int, seed: int) -> Compose:
    "MONAI's per-sample equivalent of the batched augmenter."
    t = Compose([
        RandAffine(prob=1.0, rotate_range=(math.radians(ROTATION),) * 3, scale_range=(SCALE,) * 3,
                   translate_range=(TRANSLATE * size,) * 3, padding_mode='border', mode='bilinear'),
        RandAdjustContrast(prob=1.0, gamma=GAMMA),
        RandBiasField(prob=1.0, coeff_range=(0.0, BIAS), degree=3),
        RandGaussianNoise(prob=1.0, std=NOISE),
    ])
    t.set_random_state(seed)
    return t


def sync(device: torch.device):
    if device.type == 'cuda': torch.cuda.synchronize(device)


def time_pair(fn_a, fn_b, reps: int, dev_a: torch.device, dev_b: torch.device) -> tuple[float, float]:
    "Median seconds per call of two functions, alternated after one warm-up each, so a shared machine's load hits both alike."
    fn_a(); sync(dev_a); fn_b(); sync(dev_b)
    ta, tb = [], []
    for _ in range(reps):
        t0 = time.perf_counter(); fn_a(); sync(dev_a); ta.append(time.perf_counter() - t0)
        t0 = time.perf_counter(); fn_b(); sync(dev_b); tb.append(time.perf_counter() - t0)
    return sorted(ta)[len(ta) // 2], sorted(tb)[len(tb) // 2]


def machine(device: torch.device) -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path('/proc/cpuinfo').read_text().splitlines():
            if line.startswith('model name'): cpu = line.split(':', 1)[1].strip(); break
    except OSError: pass
    s = f'{cpu}, {os.cpu_count()} logical cores visible, torch {torch.__version__} with {torch.get_num_threads()} thread(s)'
    if device.type == 'cuda': s += f', GPU: {torch.cuda.get_device_name(device)}'
    return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--sizes', type=int, nargs='+', default=[64, 96], help='cubic volume sizes')
    ap.add_argument('--batch', type=int, default=8, help='volumes per batch')
    ap.add_argument('--reps', type=int, default=5, help='timed repetitions of each, alternated (median reported)')
    ap.add_argument('--device', default='auto', help="device for BatchAugment: 'auto', 'cpu', 'cuda'")
    ap.add_argument('--threads', type=int, default=1, help='torch CPU threads (MONAI per-sample runs use them too)')
    ap.add_argument('--out', type=Path, default=None, help='also write the table to this markdown file')
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    device = get_device(args.device)
    cfg = AugmentConfig(rotation=ROTATION, scale=SCALE, translate=TRANSLATE, p_affine=1., gamma=GAMMA, p_gamma=1.,
                        bias_field=BIAS, p_bias=1., noise_std=NOISE, p_noise=1.)
    rows = ['| B | size | MONAI per-sample, CPU (vol/s) | BatchAugment, ' + device.type + ' (vol/s) | ratio |',
            '|---|---|---|---|---|']
    for size in args.sizes:
        x = torch.randn(args.batch, 1, size, size, size)
        monai_t = monai_pipeline(size, seed=0)
        aug = BatchAugment(cfg, seed=0).to(device)
        xd = x.to(device)
        t_monai, t_ours = time_pair(lambda: [monai_t(v) for v in x], lambda: aug(xd), args.reps, torch.device('cpu'), device)
        r_monai, r_ours = args.batch / t_monai, args.batch / t_ours
        rows.append(f'| {args.batch} | {size}^3 | {r_monai:.1f} | {r_ours:.1f} | {r_ours / r_monai:.1f}x |')
        print(rows[-1], flush=True)
    table = '\n'.join(rows)
    text = f'Machine: {machine(device)}\n\n{table}\n'
    print('\n' + text)
    if args.out is not None:
        with atomic_write(args.out) as f: f.write(text)


if __name__ == '__main__': main()
