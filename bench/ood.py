"""Out-of-distribution histogram (Nalisnick et al. 2019, "Do deep generative models know what
they don't know?"): per-example bits/dim of a model's test data against other data, from the
CSVs of `genlab eval RUN --data SPEC --scores FILE`.
Usage: ood.py OUT.png TITLE LABEL=FILE.csv [LABEL=FILE.csv ...]; prints a JSON summary."""
import csv
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out, title, pairs = sys.argv[1], sys.argv[2], sys.argv[3:]
series = {}
for p in pairs:
    label, path = p.split("=", 1)
    with open(path) as f:
        series[label] = [float(r["bits_per_dim"]) for r in csv.DictReader(f)]
fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=120)
lo = min(min(v) for v in series.values())
hi = max(max(v) for v in series.values())
bins = [lo + (hi - lo) * i / 60 for i in range(61)]
for label, v in series.items():
    ax.hist(v, bins=bins, alpha=0.55, density=True, label=f"{label} (n={len(v)})")
ax.set_xlabel("bits/dim (lower = more likely under the model)")
ax.set_ylabel("density")
ax.set_title(title)
ax.legend()
fig.tight_layout()
fig.savefig(out)
summary = {}
for label, v in series.items():
    s = sorted(v)
    summary[label] = {"n": len(v), "mean": sum(v) / len(v), "median": s[len(s) // 2]}
first = next(iter(series))
ref = sorted(series[first])
for label, v in series.items():
    # Fraction of this set that the model finds more likely than the median in-distribution image.
    summary[label]["below_in_median"] = sum(x < ref[len(ref) // 2] for x in v) / len(v)
print(json.dumps(summary))
