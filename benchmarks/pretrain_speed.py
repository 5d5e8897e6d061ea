#!/usr/bin/env python
"""MAE and SimCLR pre-training step times against the supervised step of the same encoder, in one process.

    python benchmarks/pretrain_speed.py --device cuda --out OUT.json   # ViT-B/16 at 96^3, MAE decoder 512 wide, 8 blocks
    python benchmarks/pretrain_speed.py --smoke --out OUT.json         # tiny shapes on the CPU: checks the script
    python benchmarks/pretrain_speed.py --device cpu --shape gpu --bs 2 --out benchmarks/pretrain_speed_vitb_cpu.json
                                                                       # the ViT-B/16 shapes, timed on the CPU

With 75% of the patches hidden the MAE encoder sees a quarter of the tokens; the goal is an MAE step at most 0.45x
the supervised one. Uses `neurovit_nb.train.pretrain.benchmark_step_time` (interleaved timings, fastest of repeats).
Writes OUT (JSON, atomic) and OUT with .md beside it.
"""
from __future__ import annotations
import os, time
from pathlib import Path
import torch
from fastcore.script import call_parse
from neurovit_nb.core import save_json
from neurovit_nb.train.pretrain import PretrainConfig, benchmark_step_time

GPU = dict(model='vit3d_base_p16', model_overrides=dict(pos_embed='sincos'), img_size=(96, 96, 96), bs=32,
           decoder_embed_dim=512, decoder_depth=8, decoder_num_heads=16)
CPU = dict(bs=8)  # the CPU pre-training defaults of PretrainConfig (the CPU fine-tuning encoder at 4 mm)
SMOKE = dict(model='tiny', model_overrides=dict(pos_embed='sincos'), img_size=(32, 32, 32), bs=2, decoder_embed_dim=16, decoder_depth=1, decoder_num_heads=2)


@call_parse
def main(device:str='auto', # 'cuda', 'cpu' or 'auto'
         smoke:bool=False, # tiny shapes (seconds on a CPU)
         shape:str=None, # 'gpu' (ViT-B/16 at 96^3), 'cpu' (the CPU pre-training encoder) or 'smoke'; default: the device's
         bs:int=None, # batch size (default: the shape's)
         steps:int=None, # optimizer steps per timing (default 10 on GPU, 3 otherwise)
         out:str='benchmarks/pretrain_speed.json', # results JSON (a markdown table is written beside it)
        ):
    "Time the MAE and SimCLR steps against the supervised step of the same encoder."
    dev = 'cuda' if device == 'auto' and torch.cuda.is_available() else 'cpu' if device == 'auto' else device
    shape = shape or ('smoke' if smoke else 'gpu' if dev == 'cuda' else 'cpu')
    p = {'smoke': SMOKE, 'gpu': GPU, 'cpu': CPU}[shape]
    p = {**p, 'bs': bs or p['bs']}
    cfg = PretrainConfig(**{k: v for k, v in p.items() if k != 'bs'})
    res = benchmark_step_time(cfg, bs=p['bs'], steps=steps or (10 if dev == 'cuda' and shape != 'smoke' else 3), repeats=3, device=dev)
    res = {**res, 'device': dev, 'gpu': torch.cuda.get_device_name(0) if dev == 'cuda' else None, 'cpu_cores': os.cpu_count(),
           'model': cfg.model, 'torch': torch.__version__, 'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
    save_json(res, out)
    md = ['| measure | value |', '|---|---|', f"| device | {res['gpu'] or 'cpu'} ({res['cpu_cores']} CPU cores) |",
          f"| encoder, input, batch | {cfg.model}, {tuple(cfg.img_size)}, {res['bs']} |",
          f"| tokens / visible to the MAE encoder | {res['tokens']} / {res['visible']} |",
          f"| MAE step (ms) | {res['mae_ms']:.1f} |", f"| supervised step (ms) | {res['supervised_ms']:.1f} |",
          f"| ratio MAE / supervised (goal <= 0.45) | {res['ratio']:.2f} |",
          f"| SimCLR step, two views (ms) | {res['simclr_ms']:.1f} |",
          f"| ratio SimCLR / supervised | {res['simclr_ratio']:.2f} |",
          f"| CPU time per step: MAE, SimCLR, supervised (ms) | {res['mae_cpu_ms']:.1f}, {res['simclr_cpu_ms']:.1f}, "
          f"{res['supervised_cpu_ms']:.1f} |",
          f"| measured | {res['date']}, torch {res['torch']} |"]
    Path(out).with_suffix('.md').write_text('\n'.join(md) + '\n')
    print('\n'.join(md))
