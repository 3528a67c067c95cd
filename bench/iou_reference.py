#!/usr/bin/env python3
"""Reference silhouette IoUs (issue 23; run with bench/.venv/bin/python bench/iou_reference.py) between real Fashion-MNIST test sneakers (7) and ankle boots (9),
foreground = pixel > 0.1 as genlab_eval::translation::FOREGROUND."""
import gzip, os
import numpy as np
d = '/usr/share/datasets/fashion-mnist'
def load(part, offset):
    name = [f for f in os.listdir(d) if part in f][0]
    p = os.path.join(d, name)
    with (gzip.open if p.endswith('.gz') else open)(p, 'rb') as f:
        return np.frombuffer(f.read(), dtype=np.uint8, offset=offset)
x = load('t10k-images', 16).reshape(-1, 784) / 255.0
y = load('t10k-labels', 8)
fg = (x > 0.1).astype(np.float32)
s, b = fg[y == 7], fg[y == 9]
inter = s @ b.T
iou = inter / np.maximum(s.sum(1)[:, None] + b.sum(1)[None, :] - inter, 1)
print(f"{len(s)} sneakers, {len(b)} boots")
print(f"random sneaker-boot pair: mean IoU {iou.mean():.3f}")
print(f"each sneaker's nearest real boot: mean IoU {iou.max(1).mean():.3f}, median {np.median(iou.max(1)):.3f}")
