"""Turn bench/results/*.json(l) into the markdown tables quoted in bench/RESULTS.md."""
import json
import statistics
import sys

kind, path = sys.argv[1], sys.argv[2]
if kind == "speed":
    rows = [json.loads(l) for l in open(path)]
    # The machine's speed drifts within minutes, so each round times genlab and PyTorch back to
    # back and the ratio is taken per round; the table gives the median ratio and its range.
    print("| workload | PyTorch ms/step | genlab ms/step | genlab / PyTorch (median of rounds) | range |")
    print("|---|---|---|---|---|")
    for w in rows[0]["genlab"]:
        g = statistics.median(r["genlab"][w] for r in rows)
        t = statistics.median(r["torch"][w] for r in rows)
        ratios = [r["genlab"][w] / r["torch"][w] for r in rows]
        print(f"| {w} | {t:.1f} | {g:.1f} | {statistics.median(ratios):.2f}x "
              f"| {min(ratios):.2f}-{max(ratios):.2f}x |")
    print(f"\n(ms/step: median over {len(rows)} rounds, each the median of 20 steps)")
elif kind == "sampling":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    n = rows[0]["n"]
    print(f"| family | 30 training steps (s) | {n} samples, plain (s) | {n} samples, cached (s) | speed-up "
          f"| cached / 30 steps | same images | PyTorch {n} samples (s) | cached samples/s | PyTorch samples/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        t = r["torch"]
        ts = f"{t['sample_s']:.1f}" if t else "-"
        tr = f"{t['samples_per_s']:.2f}" if t else "-"
        print(f"| {r['family']} | {r['train30_s']:.1f} | {r['plain_s']:.2f} | {r['cached_s']:.2f} "
              f"| {r['plain_s'] / r['cached_s']:.0f}x | {r['cached_s'] / r['train30_s']:.3f} "
              f"| {'yes' if r['identical'] else 'NO'} | {ts} | {n / r['cached_s']:.0f} | {tr} |")
elif kind == "gans":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    keys = ["fid", "kid", "precision", "recall", "density", "coverage"]
    print("| model | side | seed | " + " | ".join(k.upper() if k in ("fid", "kid") else k for k in keys) + " |")
    print("|---|---|---|" + "---|" * len(keys))
    for r in rows:
        for side, m in (("genlab", r["genlab_eval"]), ("PyTorch", r["torch_score"])):
            print(f"| {r['family']} | {side} | {r['seed']} | " + " | ".join(f"{m[k]:.3f}" for k in keys) + " |")
    print()
    print("| model | side | FID mean | FID sd | seeds |")
    print("|---|---|---|---|---|")
    for family in dict.fromkeys(r["family"] for r in rows):
        for side, key in (("genlab", "genlab_eval"), ("PyTorch", "torch_score")):
            f = [r[key]["fid"] for r in rows if r["family"] == family]
            sd = statistics.stdev(f) if len(f) > 1 else 0.0
            print(f"| {family} | {side} | {statistics.mean(f):.3f} | {sd:.3f} | {len(f)} |")
elif kind == "vae":
    r = json.load(open(path))
    g, t = r["genlab"], r["torch"]
    print("| | test NLL (nats) | bits/dim | K | train time (s) |")
    print("|---|---|---|---|---|")
    print(f"| PyTorch | {t['nll_nats']:.2f} | {t['bits_per_dim']:.4f} | {t['k']} | {t['train_s']:.0f} |")
    print(f"| genlab | {g['nll_nats']:.2f} | {g['bits_per_dim']:.4f} | {g['k']} | {r['genlab_train_s']} |")
    print(f"\ngenlab - PyTorch = {g['nll_nats'] - t['nll_nats']:+.2f} nats ({r['steps']} steps of batch 100)")
elif kind == "gmm":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print("| covariance | N x d, K | iters | sklearn mean loglik | genlab mean loglik | relative difference "
          "| sklearn fit s | genlab fit s | speed-up (sklearn/genlab) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        s, g = r["sklearn"], r["genlab"]
        rel = (g["mean_loglik"] - s["mean_loglik"]) / abs(s["mean_loglik"])
        print(f"| {s['covariance']} | {s['n']} x {s['d']}, {s['k']} | {s['iters']} "
              f"| {s['mean_loglik']:.4f} | {g['mean_loglik']:.4f} | {rel:+.1e} "
              f"| {s['fit_seconds']:.2f} | {g['fit_seconds']:.2f} | {s['fit_seconds'] / g['fit_seconds']:.2f}x |")
    s0 = rows[0]["sklearn"]
    print(f"\n(mean log-likelihood per point on the training set after the last M-step; "
          f"scikit-learn {s0['sklearn_version']}, {s0['threads']} BLAS threads)")
elif kind == "rbm":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    r = rows[-1]
    s, g = r["sklearn"], r["genlab"]
    print("| | seconds/epoch | test pseudo-loglik | AIS test loglik |")
    print("|---|---|---|---|")
    print(f"| scikit-learn {s['sklearn_version']} | {s['seconds_per_epoch']:.1f} | {s['pseudo_loglik']:.2f} | - |")
    print(f"| genlab | {g['seconds_per_epoch']:.1f} | {g['pseudo_loglik']:.2f} "
          f"| {g['ais_loglik']:.2f} +- {g['ais_stderr']:.2f} |")
    print(f"\n({s['hidden']} hidden units, batch {s['batch']}, {s['epochs']} epochs on binarized "
          f"Fashion-MNIST; pseudo-loglik is stochastic: one random bit flipped per test image)")
elif kind == "modes":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print("| family | preset | data | modes captured | high-quality samples | reverse KL | label accuracy |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        e = r["eval"]
        kl = "-" if e["reverse_kl"] is None else f"{e['reverse_kl']:.3f}"
        acc = "-" if e.get("label_accuracy") is None else f"{100 * e['label_accuracy']:.1f}%"
        print(f"| {r['family']} | {r['preset']} | {e['data']['spec']} | {e['modes_captured']}/{e['modes_total']} "
              f"| {100 * e['high_quality_fraction']:.1f}% | {kl} | {acc} |")
    p = rows[0]["eval"]["mode_protocol"]
    print(f"\n({p['samples']} samples, high quality = within {p['threshold_sigmas']:g} sigma of the "
          f"nearest mode, a mode is captured by {p['captured_if']}; seed {p['seed']})")
elif kind == "likelihood":
    MIRRORED = {("made", "default"), ("pixelcnn", "default"), ("realnvp", "fashion")}
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print("| family | preset | data | steps | genlab NLL (nats) | genlab bits/dim | PyTorch NLL | PyTorch bits/dim "
          "| genlab s/step | PyTorch s/step |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        g, t = r["genlab"], r["torch"]
        # bench/run.sh runs references only for the presets they mirror; an older raw line
        # (pixelcnn:8bit) carries the binarized reference's figure, which is not its own.
        if (r["family"], r["preset"]) not in MIRRORED:
            t = None
        data = g["data"]
        kind = "binarized (dynamic; static test)" if data["binarize"] != "none" else (
            "8-bit, dequantized" if data["dequantize"] else "8-bit")
        ts = "-" if t is None else f"{t['nll_nats']:.2f}"
        tb = "-" if t is None else f"{t['bits_per_dim']:.4f}"
        tt = "-" if t is None else f"{t['ms_per_step'] / 1000:.3f}"
        sps = r.get("genlab_s_per_step")
        gs = f"{sps:.3f}" if sps else f"{r['genlab_train_s'] / r['steps']:.3f}*"
        print(f"| {r['family']} | {r['preset']} | {data['spec']} {kind} | {r['steps']} | {g['nll_nats']:.2f} +- "
              f"{g['nll_stderr']:.2f} | {g['bits_per_dim']:.4f} | {ts} | {tb} | {gs} | {tt} |")
    print("\n(test set, 10,000 images; exact likelihoods, but a flow's NLL on dequantized pixels is an upper bound "
          "on the 8-bit image's; genlab s/step is the trainer's own steps/s where "
          "recorded, else wall time / steps, which includes start-up, checkpoints and sample grids (*))")
elif kind == "likelihood-speed":
    rows = [json.loads(l) for l in open(path) if l.strip()]
    print("| family | preset | PyTorch ms/step | genlab ms/step | genlab / PyTorch (median of rounds) | range |")
    print("|---|---|---|---|---|---|")
    for spec in dict.fromkeys((r["family"], r["preset"]) for r in rows):
        rs = [r for r in rows if (r["family"], r["preset"]) == spec]
        ratios = [r["genlab_ms_per_step"] / r["torch_ms_per_step"] for r in rs]
        print(f"| {spec[0]} | {spec[1]} | {statistics.median(r['torch_ms_per_step'] for r in rs):.1f} "
              f"| {statistics.median(r['genlab_ms_per_step'] for r in rs):.1f} | {statistics.median(ratios):.2f}x "
              f"| {min(ratios):.2f}-{max(ratios):.2f}x |")
    w = rs[0].get("warmup", 0)
    print(f"\n({len(rs)} rounds of {rs[0]['steps']} steps each" + (f", the first {w} left out)" if w else ")"))
elif kind == "translation":
    rows = [json.loads(l) for l in open(path) if l.strip()]

    def f(e, k, places=3):
        v = e.get(k)
        return "-" if v is None else f"{v:.{places}f}"

    print("| family | preset | task | steps | L1 | PSNR (dB) | SSIM | baseline | L1 | PSNR | SSIM "
          "| FID | judged accuracy (targets) | IoU | diversity (inputs) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = r["eval"]
        # The most telling baseline: the mean image for inpainting, bicubic for super-resolution.
        base = next((b for b in ("mean", "bicubic", "input") if f"l1_{b}" in e), None)
        bl = [f(e, f"{m}_{base}", p) for m, p in (("l1", 3), ("psnr", 2), ("ssim", 3))] if base else ["-"] * 3
        acc = "-" if "judged_accuracy" not in e else f"{e['judged_accuracy']:.3f} ({e['judged_accuracy_targets']:.3f})"
        div = "-" if "diversity" not in e else f"{e['diversity']:.3f} ({e['diversity_input']:.3f})"
        print(f"| {r['family']} | {r['preset']} | {e['data']['spec']} | {r['steps']} | {f(e, 'l1')} "
              f"| {f(e, 'psnr', 2)} | {f(e, 'ssim')} | {base or '-'} | {' | '.join(bl)} | {f(e, 'fid', 2)} "
              f"| {acc} | {f(e, 'iou')} | {div} |")
else:
    sys.exit(f"unknown kind {kind!r}: speed|vae|gmm|rbm|modes|likelihood|translation")
