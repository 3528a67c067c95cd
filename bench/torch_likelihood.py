"""PyTorch references for the exact-likelihood table: the same architectures, optimiser, batch
and step budget as genlab's presets, on Fashion-MNIST.

  made      `genlab train made` (default): MADE 784-500-784, one mask, natural order, ReLU,
            Adam 1e-3, batch 100; dynamic binarization; test on one fixed binarization.
  pixelcnn  `genlab train pixelcnn` (default): masked 7x7 A (1 -> 64), 7 residual blocks
            (ReLU, 1x1 64->32, ReLU, masked 3x3 B, ReLU, 1x1 32->64), ReLU, 1x1 64->64, ReLU,
            1x1 -> 1 logit; Adam 1e-3, batch 32; binarized as above.
  realnvp   `genlab train realnvp --preset fashion`: logit(0.05 + 0.9 x) of dequantized pixels,
            2 scales of (3 checkerboard couplings, squeeze, 3 channel couplings, factor out
            half), 4 checkerboard couplings; s/t nets conv3x3 -> 32, 1 residual conv3x3, zero
            conv3x3 -> 2c, s = scale * tanh; Adam 1e-3, batch 64, gradient norm clipped at 100.
Prints one JSON line: test NLL (nats), bits/dim, training seconds and ms/step."""
import argparse
import gzip
import json
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIR = "/usr/share/datasets/fashion-mnist"


def load(prefix):
    with gzip.open(f"{DIR}/{prefix}-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    return torch.from_numpy(x.astype(np.float32) / 255.0)


# --- MADE ------------------------------------------------------------------------------------
class MaskedLinear(nn.Linear):
    def __init__(self, i, o):
        super().__init__(i, o)
        self.register_buffer("mask", torch.ones(o, i))

    def forward(self, x):
        return F.linear(x, self.weight * self.mask, self.bias)


class Made(nn.Module):
    def __init__(self, d=784, hidden=500):
        super().__init__()
        self.l1, self.l2 = MaskedLinear(d, hidden), MaskedLinear(hidden, d)
        g = torch.Generator().manual_seed(0)
        deg_in = torch.arange(1, d + 1)
        deg_h = torch.randint(1, d, (hidden,), generator=g)  # in [1, d - 1]
        self.l1.mask.copy_((deg_h[:, None] >= deg_in[None, :]).float())
        self.l2.mask.copy_((deg_in[:, None] > deg_h[None, :]).float())

    def log_prob(self, x):
        logits = self.l2(F.relu(self.l1(x)))
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


# --- PixelCNN --------------------------------------------------------------------------------
class MaskedConv(nn.Conv2d):
    def __init__(self, i, o, k, mask_type):
        super().__init__(i, o, k, padding=k // 2)
        m = torch.ones(k, k)
        c = k // 2
        m[c, c + (mask_type == "B"):] = 0
        m[c + 1:] = 0
        self.register_buffer("mask", m[None, None])

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class Block(nn.Module):
    def __init__(self, h):
        super().__init__()
        self.down, self.mid, self.up = nn.Conv2d(2 * h, h, 1), MaskedConv(h, h, 3, "B"), nn.Conv2d(h, 2 * h, 1)

    def forward(self, x):
        return x + self.up(F.relu(self.mid(F.relu(self.down(F.relu(x))))))


class PixelCnn(nn.Module):
    def __init__(self, h=32, blocks=7, head=64):
        super().__init__()
        self.first = MaskedConv(1, 2 * h, 7, "A")
        self.blocks = nn.Sequential(*[Block(h) for _ in range(blocks)])
        self.head, self.out = nn.Conv2d(2 * h, head, 1), nn.Conv2d(head, 1, 1)

    def log_prob(self, x):
        img = x.view(-1, 1, 28, 28)
        logits = self.out(F.relu(self.head(F.relu(self.blocks(self.first(img))))))
        return -F.binary_cross_entropy_with_logits(logits.view(-1, 784), x, reduction="none").sum(1)


# --- RealNVP ---------------------------------------------------------------------------------
def squeeze(x):
    b, c, h, w = x.shape
    return x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4).reshape(b, 4 * c, h // 2, w // 2)


def mask(kind, parity, c, h, w):
    if kind == "checker":
        m = ((torch.arange(h)[:, None] + torch.arange(w)[None, :]) % 2 == 0).float()
        m = m if not parity else 1 - m
        return m[None, None].expand(1, c, h, w)
    m = (torch.arange(c) < c // 2).float()
    m = m if not parity else 1 - m
    return m[None, :, None, None].expand(1, c, h, w)


class Coupling(nn.Module):
    def __init__(self, c, width=32, blocks=1):
        super().__init__()
        self.inp = nn.Conv2d(c, width, 3, padding=1)
        self.hidden = nn.ModuleList([nn.Conv2d(width, width, 3, padding=1) for _ in range(blocks)])
        self.out = nn.Conv2d(width, 2 * c, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)
        self.scale = nn.Parameter(torch.ones(c))

    def forward(self, x, m):
        xb = x * m
        h = F.relu(self.inp(xb))
        for layer in self.hidden:
            h = h + F.relu(layer(h))
        s_raw, t = self.out(h).chunk(2, dim=1)
        s = torch.tanh(s_raw) * self.scale[None, :, None, None] * (1 - m)
        y = xb + (1 - m) * (x * torch.exp(s) + t * (1 - m))
        return y, s.flatten(1).sum(1)


class RealNvp(nn.Module):
    def __init__(self, scales=2, final=4, alpha=0.05):
        super().__init__()
        self.alpha, self.plan, layers = alpha, [], []
        c = 1
        for _ in range(scales):
            for i in range(3):
                self.plan.append(("couple", "checker", i % 2 == 1)); layers.append(Coupling(c))
            self.plan.append(("squeeze",)); c *= 4
            for i in range(3):
                self.plan.append(("couple", "channel", i % 2 == 1)); layers.append(Coupling(c))
            self.plan.append(("split",)); c //= 2
        for i in range(final):
            self.plan.append(("couple", "checker", i % 2 == 1)); layers.append(Coupling(c))
        self.layers = nn.ModuleList(layers)

    def log_prob(self, x):
        a = self.alpha
        p = a + (1 - 2 * a) * x
        y = torch.log(p) - torch.log1p(-p)
        logdet = (-torch.log(p) - torch.log1p(-p)).sum(1) + 784 * math.log(1 - 2 * a)
        t, zs, it = y.view(-1, 1, 28, 28), [], iter(self.layers)
        for op in self.plan:
            if op[0] == "couple":
                _, c, h, w = t.shape
                t, ld = next(it)(t, mask(op[1], op[2], c, h, w))
                logdet = logdet + ld
            elif op[0] == "squeeze":
                t = squeeze(t)
            else:
                c = t.shape[1]
                zs.append(t[:, c // 2:].flatten(1)); t = t[:, : c // 2]
        z = torch.cat(zs + [t.flatten(1)], 1)
        return (-0.5 * (z**2 + math.log(2 * math.pi))).sum(1) + logdet


SETTINGS = {
    "made": dict(make=Made, batch=100, binary=True, clip=None),
    "pixelcnn": dict(make=PixelCnn, batch=32, binary=True, clip=None),
    "realnvp": dict(make=RealNvp, batch=64, binary=False, clip=100.0),
}

if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(SETTINGS))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = SETTINGS[a.model]
    train, test = load("train"), load("t10k")
    g = torch.Generator().manual_seed(1)
    if cfg["binary"]:
        test = (torch.rand(test.shape, generator=g) < test).float()
    else:
        test = (test * 255 + torch.rand(test.shape, generator=g)) / 256
    model = cfg["make"]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    b = cfg["batch"]
    start = time.time()
    perm, pos = torch.randperm(len(train)), 0
    for step in range(a.steps):
        if pos + b > len(train):
            perm, pos = torch.randperm(len(train)), 0
        xb = train[perm[pos : pos + b]]
        pos += b
        xb = (torch.rand_like(xb) < xb).float() if cfg["binary"] else (xb * 255 + torch.rand_like(xb)) / 256
        loss = -model.log_prob(xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["clip"]:
            nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
    train_s = time.time() - start
    with torch.no_grad():
        ll = torch.cat([model.log_prob(test[i : i + 500]) for i in range(0, len(test), 500)])
    nll = -ll.mean().item()
    if not cfg["binary"]:
        nll += 784 * math.log(256)
    print(json.dumps({"model": a.model, "steps": a.steps, "nll_nats": nll, "bits_per_dim": nll / (784 * math.log(2)),
                      "train_s": train_s, "ms_per_step": 1000 * train_s / max(a.steps, 1), "n_examples": len(ll)}))
