#!/usr/bin/env python
"""End-to-end training throughput (cache -> loader -> device -> augmentation -> step) against model-only throughput.

    python benchmarks/input_pipeline.py --device cuda --out results/     # ViT-B/16 at 96^3, a few thousand images
    python benchmarks/input_pipeline.py --smoke --out /tmp/x             # tiny shapes: checks the script itself

A synthetic BIDS cohort is written, preprocessed into the on-disk cache, and one real training epoch runs through
`neurovit_nb.train.loop.fit` with the package's loaders and on-device augmentation. The same model then repeats the
same optimizer step on batches already on the device (the first batches of the same loader), which is the ceiling
the input pipeline can reach. The ratio end-to-end / model-only is the share of the model's speed the pipeline
keeps (goal: at least 0.95 on a GPU). Results go to OUT/input_pipeline.json (atomic) and OUT/input_pipeline.md.
"""
from __future__ import annotations
import os, platform, tempfile, time
from pathlib import Path
import torch
import torch.nn.functional as F
from fastcore.script import call_parse
from neurovit_nb.core import get_logger, save_json, seed_everything
from neurovit_nb.data.synthetic import write_synthetic_bids
from neurovit_nb.data.cohort import load_cohort, get_task, apply_task
from neurovit_nb.data.preprocess import VolumeCache
from neurovit_nb.data.prepare import PrepConfig
from neurovit_nb.data.loaders import make_dataloaders
from neurovit_nb.data.augment import AugmentConfig, BatchAugment
from neurovit_nb.models.registry import create_model
from neurovit_nb.train.loop import TrainConfig, fit

log = get_logger('neurovit_nb.bench')

# (preset, img_size, spacing mm, batch size, subjects, loader workers)
FULL = dict(preset='vit3d_base_p16', img_size=(96, 96, 96), spacing=2.0, bs=32, n_subjects=2400, workers=12)
SMOKE = dict(preset='tiny', img_size=(32, 32, 32), spacing=6.0, bs=4, n_subjects=12, workers=0)


def _sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def model_only(model, batches, dev, steps, amp):
    "Volumes/s of the training step alone, cycling over batches already on the device."
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=dev.type == 'cuda')
    def step(x, y):
        with (torch.autocast('cuda', dtype=torch.bfloat16) if amp else torch.autocast('cpu', enabled=False)):
            loss = F.cross_entropy(model(x).float(), y)
        loss.backward(); opt.step(); opt.zero_grad(set_to_none=True)
    for x, y in batches[:2]: step(x, y)  # warm-up (kernels, allocator)
    _sync(dev); t0 = time.perf_counter(); n = 0
    for i in range(steps):
        x, y = batches[i % len(batches)]; step(x, y); n += len(x)
    _sync(dev)
    return n / (time.perf_counter() - t0)


@call_parse
def main(out:str='benchmarks/input_pipeline_results', # folder for the JSON and markdown results
         device:str='auto', # 'cuda', 'cpu' or 'auto'
         smoke:bool=False, # tiny shapes (checks the script on a CPU in seconds)
         work:str=None, # folder for the cohort and cache (default: a temporary folder)
         n_subjects:int=None, # cohort size (default: 2400 full, 12 smoke)
         workers:int=None, # DataLoader worker processes
        ):
    "Measure one real training epoch from the cache against the model-only step rate."
    dev = torch.device('cuda' if device == 'auto' and torch.cuda.is_available() else 'cpu' if device == 'auto' else device)
    p = dict(SMOKE if smoke else FULL)
    if n_subjects: p['n_subjects'] = n_subjects
    if workers is not None: p['workers'] = workers
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    work = Path(work) if work else Path(tempfile.mkdtemp(prefix='neurovit_pipe_'))
    res = {'params': {k: list(v) if isinstance(v, tuple) else v for k, v in p.items()}, 'device': str(dev),
           'gpu': torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None, 'torch': torch.__version__,
           'cpu_cores': os.cpu_count(), 'python': platform.python_version()}
    t0 = time.perf_counter()
    data = write_synthetic_bids(work/'data', n_subjects=p['n_subjects'], seed=0, spacing=p['spacing'], max_sessions=1,
                                frac_longitudinal=0.0, p_diagnosis=(0.5, 0.0, 0.5))
    res['synth_s'] = round(time.perf_counter() - t0, 1)
    df = apply_task(load_cohort(data), get_task('ad')).assign(split='train')  # every image trains: this is a speed test
    cache = VolumeCache(work/'cache', PrepConfig(img_size=p['img_size'], spacing=(p['spacing'],) * 3))
    t0 = time.perf_counter(); cache.build(df.path.tolist(), progress=False)
    res['cache_build_s'] = round(time.perf_counter() - t0, 1)
    dls = make_dataloaders(df, cache, bs=p['bs'], num_workers=p['workers'], seed=0, drop_last=True)
    seed_everything(0)
    model = create_model(p['preset'], img_size=p['img_size'], num_classes=2).to(dev)
    amp = dev.type == 'cuda'
    # end to end: one real epoch of the package's loop (loader, transfer, on-device augmentation, bf16 step)
    tr = TrainConfig(epochs=1, warmup_epochs=0, lr=1e-4, log_every=10_000)
    aug = BatchAugment(AugmentConfig(), seed=0)
    t0 = time.perf_counter()
    summary = fit(model, dls['train'], None, tr, out_dir=None, device=dev, augment=aug, progress=False)
    _sync(dev)
    ep = summary['history'][-1]
    res['end_to_end'] = {'images': len(dls['train']) * p['bs'], 'epoch_s': round(time.perf_counter() - t0, 2),
                         'volumes_per_s': round(ep['vols_per_s'], 2)}
    # model only: the same step on the loader's first batches, already on the device (augmentation included)
    batches = []
    for i, (x, y) in enumerate(dls['train']):
        if i == 4: break
        batches.append((aug(x.to(dev)), y.to(dev)))
    steps = 6 if smoke else 60
    res['model_only'] = {'steps': steps, 'volumes_per_s': round(model_only(model, batches, dev, steps, amp), 2)}
    res['ratio_end_to_end_over_model_only'] = round(res['end_to_end']['volumes_per_s'] / res['model_only']['volumes_per_s'], 3)
    res['date'] = time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())
    save_json(res, out/'input_pipeline.json')
    md = ['| measure | value |', '|---|---|',
          f"| device | {res['gpu'] or 'cpu'} ({res['cpu_cores']} CPU cores) |",
          f"| model, input, batch | {p['preset']}, {p['img_size']}, {p['bs']} |",
          f"| end-to-end volumes/s (one epoch, {res['end_to_end']['images']} images) | {res['end_to_end']['volumes_per_s']} |",
          f"| model-only volumes/s | {res['model_only']['volumes_per_s']} |",
          f"| ratio | {res['ratio_end_to_end_over_model_only']} |"]
    (out/'input_pipeline.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
