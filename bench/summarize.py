"""Turn bench/results/*.json(l) into the markdown tables quoted in bench/RESULTS.md."""
import json
import statistics
import sys

kind, path = sys.argv[1], sys.argv[2]
if kind == "speed":
    rows = [json.loads(l) for l in open(path)]
    print("| workload | PyTorch ms/step | genlab ms/step | genlab / PyTorch |")
    print("|---|---|---|---|")
    for w in rows[0]["genlab"]:
        g = statistics.median(r["genlab"][w] for r in rows)
        t = statistics.median(r["torch"][w] for r in rows)
        print(f"| {w} | {t:.1f} | {g:.1f} | {g / t:.2f}x |")
    print(f"\n(median over {len(rows)} rounds, each the median of 20 steps)")
else:
    r = json.load(open(path))
    g, t = r["genlab"], r["torch"]
    print("| | test NLL (nats) | bits/dim | K | train time (s) |")
    print("|---|---|---|---|---|")
    print(f"| PyTorch | {t['nll_nats']:.2f} | {t['bits_per_dim']:.4f} | {t['k']} | {t['train_s']:.0f} |")
    print(f"| genlab | {g['nll_nats']:.2f} | {g['bits_per_dim']:.4f} | {g['k']} | {r['genlab_train_s']} |")
    print(f"\ngenlab - PyTorch = {g['nll_nats'] - t['nll_nats']:+.2f} nats ({r['steps']} steps of batch 100)")
