"""PyTorch reference of `genlab train pix2pix` (preset default) for the step-time comparison:
the same task (Sobel edges of Fashion-MNIST, threshold 0.2 of the largest magnitude 4*sqrt(2),
borders replicated; pixels in [-1, 1]), networks, losses, optimiser and batch.

Networks (genlab_nn::translation_nets at width 64; PyTorch's default initialisation as burn's):
  U-Net: the 28x28 input zero-padded to 32; encoder conv 4x4/2 1->64 (16), LeakyReLU 0.2,
    conv 64->128 (8) BN, LeakyReLU, conv 128->256 (4) BN, LeakyReLU, conv 256->512 (2);
    decoder ReLU, convT 512->256 (4) BN dropout, [cat skip] ReLU convT 512->128 (8) BN dropout,
    [cat] ReLU convT 256->64 (16) BN, [cat] ReLU convT 128->1 (32), cropped to 28, tanh.
  PatchGAN (layers = 1): conv 4x4/2 2->64, LeakyReLU, conv 4x4/1 64->128 BN LeakyReLU,
    conv 4x4/1 128->1: 12x12 logits.
Step: D on (x, y) and (x, G(x) detached), BCE with logits, halved; then G: BCE of D(x, G(x))
against 1 (D's weights frozen) + 100 L1. Adam 2e-4, betas (0.5, 0.999), batch 64.
Prints one JSON object: seconds per step over --steps steps after --warmup."""
import argparse
import gzip
import json
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

DIR = "/usr/share/datasets/fashion-mnist"


def load_edges():
    with gzip.open(f"{DIR}/train-images-idx3-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28).astype(np.float32) / 255.0
    p = np.pad(y, ((0, 0), (1, 1), (1, 1)), mode="edge")
    s = lambda dr, dc: p[:, 1 + dr:29 + dr, 1 + dc:29 + dc]
    gx = (s(-1, 1) + 2 * s(0, 1) + s(1, 1)) - (s(-1, -1) + 2 * s(0, -1) + s(1, -1))
    gy = (s(1, -1) + 2 * s(1, 0) + s(1, 1)) - (s(-1, -1) + 2 * s(-1, 0) + s(-1, 1))
    x = (np.sqrt(gx * gx + gy * gy) / (4 * np.sqrt(2)) > 0.2).astype(np.float32)
    to = lambda a: torch.from_numpy(a[:, None] * 2.0 - 1.0)
    return to(x), to(y)


def ch(w, i):
    return w * min(2 ** i, 8)


class UNet(nn.Module):
    def __init__(self, cin=1, cout=1, width=64, depth=4, dropout_layers=2):
        super().__init__()
        c = [ch(width, i) for i in range(depth)]
        self.depth, self.dropout_layers = depth, dropout_layers
        self.downs = nn.ModuleList([nn.Conv2d(cin if i == 0 else c[i - 1], c[i], 4, 2, 1) for i in range(depth)])
        self.down_norms = nn.ModuleList([nn.BatchNorm2d(c[i]) for i in range(1, depth - 1)])
        ups = []
        for j in range(depth):
            level = depth - 1 - j
            ups.append(nn.ConvTranspose2d(c[level] * (1 if j == 0 else 2), cout if level == 0 else c[level - 1], 4, 2, 1))
        self.ups = nn.ModuleList(ups)
        self.up_norms = nn.ModuleList([nn.BatchNorm2d(c[depth - 2 - j]) for j in range(depth - 1)])

    def forward(self, x):
        x = F.pad(x, (2, 2, 2, 2))
        skips, e = [], self.downs[0](x)
        for i in range(1, self.depth):
            skips.append(e)
            e = self.downs[i](F.leaky_relu(e, 0.2))
            if i < self.depth - 1:
                e = self.down_norms[i - 1](e)
        u = e
        for j, layer in enumerate(self.ups):
            if j > 0:
                u = torch.cat([u, skips[self.depth - 1 - j]], 1)
            u = layer(F.relu(u))
            if j < self.depth - 1:
                u = self.up_norms[j](u)
                if j < self.dropout_layers:
                    u = F.dropout(u, 0.5, training=True)
        return torch.tanh(u[:, :, 2:30, 2:30])


class PatchGan(nn.Module):
    def __init__(self, cin=2, width=64, layers=1):
        super().__init__()
        convs, norms = [nn.Conv2d(cin, width, 4, 2, 1)], []
        for n in range(1, layers + 1):
            convs.append(nn.Conv2d(ch(width, n - 1), ch(width, n), 4, 2 if n < layers else 1, 1))
            norms.append(nn.BatchNorm2d(ch(width, n)))
        convs.append(nn.Conv2d(ch(width, layers), 1, 4, 1, 1))
        self.convs, self.norms = nn.ModuleList(convs), nn.ModuleList(norms)

    def forward(self, x, y):
        h = torch.cat([x, y], 1)
        for i, conv in enumerate(self.convs):
            h = conv(h)
            if i == len(self.convs) - 1:
                break
            if i > 0:
                h = self.norms[i - 1](h)
            h = F.leaky_relu(h, 0.2)
        return h.flatten(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--l1-only", action="store_true", help="the L1 ablation (preset l1): no D")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    x_all, y_all = load_edges()
    g, d = UNet(), PatchGan()
    opt_g = torch.optim.Adam(g.parameters(), 2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 2e-4, betas=(0.5, 0.999))
    bce = F.binary_cross_entropy_with_logits
    perm = torch.randperm(len(x_all))

    def step(i):
        idx = perm[(i * a.batch) % (len(perm) - a.batch):][: a.batch]
        x, y = x_all[idx], y_all[idx]
        fake = g(x)
        if a.l1_only:
            g_loss = 100.0 * (fake - y).abs().mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            return float(g_loss.detach())
        real_l, fake_l = d(x, y), d(x, fake.detach())
        d_loss = 0.5 * (bce(real_l, torch.ones_like(real_l)) + bce(fake_l, torch.zeros_like(fake_l)))
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        for p in d.parameters():
            p.requires_grad_(False)
        out = d(x, fake)
        g_loss = bce(out, torch.ones_like(out)) + 100.0 * (fake - y).abs().mean()
        opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        opt_g.step()
        for p in d.parameters():
            p.requires_grad_(True)
        return float(g_loss.detach())

    for i in range(a.warmup):
        step(i)
    t = time.perf_counter()
    for i in range(a.steps):
        last = step(a.warmup + i)
    sec = (time.perf_counter() - t) / a.steps
    print(json.dumps({"sec_per_step": sec, "steps": a.steps, "threads": a.threads, "batch": a.batch,
                      "torch": torch.__version__, "last_g_loss": last}))


if __name__ == "__main__":
    main()
