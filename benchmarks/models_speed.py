#!/usr/bin/env python
"""Training-step speed of the package's ViT3d against MONAI's ViT of the same shape, in the same run.

    python benchmarks/models_speed.py --device cuda    # ViT-B/16 at 96^3 (batch 128) and 160x192x160 (batch 8)
    python benchmarks/models_speed.py --device cpu     # tiny presets at small sizes: step time, ours vs MONAI

Each variant runs full training steps (forward, cross-entropy, backward, AdamW step) on random volumes and reports
volumes/s, milliseconds per step, peak memory and achieved TFLOP/s (analytic forward FLOPs x 3 for forward +
backward). Results go to benchmarks/models_speed_<device>.json (written atomically) and a markdown table is printed.

Variants (GPU: all but monai_flash_fp32; CPU: monai_fp32, monai_flash_fp32, ours_fp32):
  monai_fp32        MONAI's ViT as users run it: explicit attention, fp32 with PyTorch's default full-precision matmuls
  monai_tf32        the same with TF32 matmuls allowed (`torch.set_float32_matmul_precision('high')`), which many
                    training scripts switch on; the faster of the two is the fair fp32 baseline
  monai_flash_bf16  MONAI at its best: its blocks' SDPA path (use_flash_attention=True), bf16 autocast
  monai_flash_fp32  MONAI's SDPA path in fp32 (the CPU comparison)
  ours_fp32         ViT3d, fused SDPA attention, fp32
  ours_bf16         ViT3d, fused SDPA attention, bf16 autocast
  ours_bf16_compile ViT3d, bf16 autocast, torch.compile; falls back to eager (and says so) if compilation fails

The JSON is rewritten after every variant, so an interrupted run keeps what it measured. A variant that fails
(out of memory, or any error) is recorded with its error and the run goes on.
"""
from __future__ import annotations
import contextlib, gc, json, os, platform, sys, time, traceback
from pathlib import Path
import torch
import torch.nn.functional as F
from fastcore.script import call_parse
from neurovit_nb.core import get_logger, save_json, seed_everything
from neurovit_nb.models.registry import create_model, vit_flops

log = get_logger('neurovit_nb.bench')
HERE = Path(__file__).resolve().parent

# (label, preset, img_size, batch size)
GPU_SHAPES = [('ViT-B/16 96^3', 'vit3d_base_p16', (96, 96, 96), 128),
              ('ViT-B/16 160x192x160', 'vit3d_base_p16', (160, 192, 160), 8)]
CPU_SHAPES = [('ViT-T/8 64^3', 'vit3d_tiny_p8', (64, 64, 64), 4),
              ('ViT-S/16 64^3', 'vit3d_small_p16', (64, 64, 64), 4),
              ('tiny 32^3', 'tiny', (32, 32, 32), 4)]
SMOKE_SHAPES = [('tiny 32^3 (smoke)', 'tiny', (32, 32, 32), 2)]
# variant -> (model family, use_flash_attention for MONAI, autocast dtype or None, compile, TF32 matmuls)
VARIANTS = {'monai_fp32': ('monai', False, None, False, False),
            'monai_tf32': ('monai', False, None, False, True),
            'monai_flash_bf16': ('monai', True, torch.bfloat16, False, False),
            'monai_flash_fp32': ('monai', True, None, False, False),
            'ours_fp32': ('ours', None, None, False, False),
            'ours_bf16': ('ours', None, torch.bfloat16, False, False),
            'ours_bf16_compile': ('ours', None, torch.bfloat16, True, False)}
GPU_VARIANTS = [v for v in VARIANTS if v != 'monai_flash_fp32']
CPU_VARIANTS = ['monai_fp32', 'monai_flash_fp32', 'ours_fp32']
CPU_VARIANTS_NOTE = ('on CPU every variant runs in fp32 without compilation; cpu_ms (process time, one thread) is '
                     'the step time without the other jobs of a shared machine, and the speed-ups use it')
MONAI_REFS = ('monai_fp32', 'monai_tf32', 'monai_flash_bf16', 'monai_flash_fp32')


def build(variant, preset, img_size):
    "The model of one variant: ours from the preset, or MONAI's ViT of exactly the same shape."
    family, flash = VARIANTS[variant][:2]
    ours = create_model(preset, img_size=img_size)
    if family == 'ours': return ours
    c = ours.cfg
    return create_model('monai_vit_b16', img_size=c.img_size, patch_size=c.patch_size, in_chans=c.in_chans,
                        num_classes=c.num_classes, embed_dim=c.embed_dim, depth=c.depth, num_heads=c.num_heads,
                        mlp_ratio=c.mlp_ratio, qkv_bias=c.qkv_bias, use_flash_attention=flash)


def sync(dev):
    if dev.type == 'cuda': torch.cuda.synchronize(dev)


def _free(dev):
    gc.collect()
    if dev.type == 'cuda': torch.cuda.empty_cache()


def run_variant(variant, preset, img_size, bs, dev, steps, warmup, allow_compile=True):
    "Time `steps` training steps after `warmup` ones; return a result dict (with 'error' if it failed)."
    family, flash, amp_dtype, want_compile, tf32 = VARIANTS[variant]
    if dev.type == 'cpu': amp_dtype = None
    res = {'variant': variant, 'model': family, 'preset': preset, 'img_size': list(img_size), 'batch_size': bs,
           'dtype': str(amp_dtype).replace('torch.', '') if amp_dtype else 'tf32' if tf32 and dev.type == 'cuda' else 'float32',
           'attention': 'sdpa' if family == 'ours' or flash else 'explicit', 'compile': 'off'}
    prev_precision = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision('high' if tf32 else 'highest')
    try: return _timed(res, variant, preset, img_size, bs, dev, steps, warmup, amp_dtype, want_compile and allow_compile)
    except torch.cuda.OutOfMemoryError: return {**res, 'error': 'out of memory'}
    except Exception as e:
        log.warning(f'{variant} {img_size}: failed ({type(e).__name__}: {e})')
        return {**res, 'error': f'{type(e).__name__}: {str(e)[:300]}'}
    finally:
        torch.set_float32_matmul_precision(prev_precision)
        _free(dev)


def _timed(res, variant, preset, img_size, bs, dev, steps, warmup, amp_dtype, want_compile):
    seed_everything(0)
    model = build(variant, preset, img_size).to(dev).train()
    with torch.device('meta'): cfg = create_model(preset, img_size=img_size).cfg
    flops_fwd = vit_flops(cfg)
    res['params'] = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05, fused=dev.type == 'cuda')
    x = torch.randn(bs, cfg.in_chans, *img_size, device=dev)
    y = torch.randint(0, cfg.num_classes, (bs,), device=dev)
    amp = (lambda: torch.autocast(dev.type, dtype=amp_dtype)) if amp_dtype else contextlib.nullcontext
    step_model = model
    if want_compile: step_model, res['compile'] = torch.compile(model), 'on'

    def step():
        with amp(): loss = F.cross_entropy(step_model(x), y)
        loss.backward()
        opt.step(); opt.zero_grad(set_to_none=True)
        return loss

    t0 = time.perf_counter()
    try:
        for _ in range(warmup): step()
        sync(dev)
    except torch.cuda.OutOfMemoryError: raise
    except Exception as e:
        if res['compile'] != 'on': raise
        # compilation is an optimisation: log why it failed and measure the eager model instead
        msg = f'{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ""}'[:300]
        log.warning(f'{variant} {img_size}: torch.compile failed, running eager instead ({msg})')
        log.debug(traceback.format_exc())
        torch._dynamo.reset(); opt.zero_grad(set_to_none=True)
        step_model, res['compile'] = model, f'failed, ran eager: {msg}'
        for _ in range(warmup): step()
        sync(dev)
    res['warmup_s'] = round(time.perf_counter() - t0, 2)
    if dev.type == 'cuda': torch.cuda.reset_peak_memory_stats(dev)
    times, cpu_times = [], []
    for _ in range(steps):
        # per-step times; the median resists other load on a shared machine (on GPU, syncing each step costs
        # only the launch gap of one step). On CPU the process time is kept too: with one thread it is the step
        # time the machine would give without the other jobs competing for its cores.
        t0, c0 = time.perf_counter(), time.process_time()
        loss = step(); sync(dev)
        times.append(time.perf_counter() - t0); cpu_times.append(time.process_time() - c0)
    dt = sorted(times)[len(times) // 2]
    res['step_ms_min_max'] = [round(min(times) * 1e3, 2), round(max(times) * 1e3, 2)]
    if dev.type == 'cpu': res['cpu_ms'] = round(sorted(cpu_times)[len(cpu_times) // 2] * 1e3, 2)
    res.update(step_ms=round(dt * 1e3, 2), volumes_per_s=round(bs / dt, 2),
               tflops=round(3 * flops_fwd * bs / dt / 1e12, 3), loss_finite=bool(torch.isfinite(loss).item()))
    if dev.type == 'cuda': res['peak_mem_gib'] = round(torch.cuda.max_memory_allocated(dev) / 2**30, 2)
    return res


def machine(dev):
    "Describe the hardware and software the figures come from."
    info = {'torch': torch.__version__, 'python': platform.python_version(), 'platform': platform.platform(),
            'threads': torch.get_num_threads()}
    try:
        import monai; info['monai'] = monai.__version__
    except ImportError: pass
    if dev.type == 'cuda':
        p = torch.cuda.get_device_properties(dev)
        info.update(gpu=p.name, gpu_mem_gib=round(p.total_memory / 2**30, 1), cuda=torch.version.cuda,
                    tf32_matmul=torch.backends.cuda.matmul.allow_tf32, tf32_cudnn=torch.backends.cudnn.allow_tf32)
    else:
        cpu = next((l.split(':', 1)[1].strip() for l in Path('/proc/cpuinfo').read_text().splitlines()
                    if l.startswith('model name')), platform.processor()) if Path('/proc/cpuinfo').exists() else platform.processor()
        info.update(cpu=cpu, cores=os.cpu_count())
    return info


def summarise(results):
    "Speed-ups of our best variant over MONAI as users run it and at its best, per shape."
    out = {}
    for label in dict.fromkeys(r['label'] for r in results):
        rs = {r['variant']: r for r in results if r['label'] == label and 'volumes_per_s' in r}
        ours = [r for v, r in rs.items() if v.startswith('ours')]
        if not ours: continue
        best = min(ours, key=lambda r: r['cpu_ms']) if 'cpu_ms' in ours[0] else max(ours, key=lambda r: r['volumes_per_s'])
        s = {'ours_best': best['variant']}
        for ref in MONAI_REFS:
            if ref in rs:
                # CPU: compare process time (robust to other load); GPU: throughput
                s[f'speedup_vs_{ref}'] = round(rs[ref]['cpu_ms'] / best['cpu_ms'] if 'cpu_ms' in best else
                                               best['volumes_per_s'] / rs[ref]['volumes_per_s'], 2)
                if 'peak_mem_gib' in best: s[f'peak_mem_ratio_vs_{ref}'] = round(best['peak_mem_gib'] / rs[ref]['peak_mem_gib'], 2)
        fp32 = [rs[v] for v in ('monai_fp32', 'monai_tf32') if v in rs]
        if fp32 and 'cpu_ms' not in best:
            # the fair "as users run it" baseline is the faster of MONAI's two fp32 settings
            s['speedup_vs_monai_fp32_fastest'] = round(best['volumes_per_s'] / max(r['volumes_per_s'] for r in fp32), 2)
        out[label] = s
    return out


def markdown(results):
    cols = ['label', 'variant', 'dtype', 'attention', 'compile', 'step_ms', 'cpu_ms', 'volumes_per_s', 'tflops', 'peak_mem_gib']
    cols = [c for c in cols if any(c in r for r in results) or c == 'step_ms']
    lines = ['| ' + ' | '.join(cols) + ' |', '|' + '---|' * len(cols)]
    for r in results:
        r = {**r, 'compile': r['compile'] if len(r['compile']) < 20 else 'failed (eager)'}
        lines.append('| ' + ' | '.join(str(r.get(c, r.get('error', '') if c == 'step_ms' else '')) for c in cols) + ' |')
    return '\n'.join(lines)


@call_parse
def main(device:str='auto', # 'cuda', 'cpu', or 'auto' (cuda when available)
         steps:int=None, # timed steps per variant; the median step is reported (default 20 on GPU, 3 on CPU)
         warmup:int=None, # untimed steps first (default 5 on GPU, 1 on CPU; compilation happens here)
         variants:str=None, # comma-separated subset of the variants (default: all for the device)
         no_compile:bool=False, # run the compile variant eagerly (it falls back to eager on failure anyway)
         smoke:bool=False, # run the GPU variant list on the tiny model (checks the script itself, fast)
         out:str=None, # results JSON (default benchmarks/models_speed_<device>.json)
        ):
    "Benchmark training steps of ViT3d against MONAI's ViT."
    dev = torch.device('cuda' if device == 'auto' and torch.cuda.is_available() else 'cpu' if device == 'auto' else device)
    if dev.type == 'cuda' and not torch.cuda.is_available(): sys.exit('--device cuda: CUDA is not available on this machine')
    gpu = dev.type == 'cuda'
    shapes = SMOKE_SHAPES if smoke else GPU_SHAPES if gpu else CPU_SHAPES
    names = variants.split(',') if variants else GPU_VARIANTS if (gpu or smoke) else CPU_VARIANTS
    unknown = [v for v in names if v not in VARIANTS]
    if unknown: sys.exit(f'--variants: unknown {unknown}; choose from {list(VARIANTS)}')
    steps = steps or (20 if gpu else 2 if smoke else 3)
    warmup = warmup or (5 if gpu else 1)
    info = machine(dev)
    log.info(f'device {dev}: {info.get("gpu") or info.get("cpu")}, torch {info["torch"]}, {steps} timed steps')
    path = Path(out) if out else HERE/f'models_speed_{"smoke" if smoke else dev.type}.json'
    results = []
    for label, preset, img_size, bs in shapes:
        for v in names:
            log.info(f'{label} batch {bs}: {v}')
            r = run_variant(v, preset, img_size, bs, dev, steps, warmup, allow_compile=not no_compile)
            results.append({'label': label, **r})
            log.info('  ' + ', '.join(f'{k}={r[k]}' for k in ('step_ms', 'cpu_ms', 'volumes_per_s', 'tflops', 'peak_mem_gib', 'compile', 'error') if k in r))
            report = {'machine': info, 'steps': steps, 'warmup': warmup, 'results': results, 'summary': summarise(results),
                      'note': None if gpu else CPU_VARIANTS_NOTE, 'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
            save_json(report, path)
    print(markdown(results))
    print(json.dumps(report['summary'], indent=1))
    print('wrote', os.path.relpath(path))
