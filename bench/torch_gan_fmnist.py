"""PyTorch references for the GAN image benchmark: the same networks, losses, optimisers and
step budget as `genlab train dcgan` (preset default) and `genlab train wgan-gp --preset fashion`
on Fashion-MNIST scaled to [-1, 1].

Networks (genlab_nn::gan_nets at width 64, PyTorch's default initialisation as burn's):
  G: z (100) -> linear 128x7x7 -> BN, ReLU -> convT 4x4/2 -> 64x14x14 -> BN, ReLU
     -> convT 4x4/2 -> 1x28x28 -> tanh
  D: conv 4x4/2 -> 64x14x14 -> LeakyReLU 0.2 -> conv 4x4/2 -> 128x7x7 -> BN (not in the
     WGAN-GP critic) -> LeakyReLU 0.2 -> linear -> 1
One step = one D update; G is updated every `d_steps`-th step with a fresh z, through D without
gradients of its own. Writes a grid of 64 samples (G in eval mode, as `genlab sample`) laid out
like genlab's (8 columns, 2x scale, 2-pixel gutters) and prints one JSON object."""
import argparse
import gzip
import json
import time

import matplotlib
import numpy as np
import torch
import torch.nn.functional as F
from torch_workloads import Discriminator, Generator  # W2's networks (genlab_nn::gan_nets)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DIR = "/usr/share/datasets/fashion-mnist"
Z = 100  # torch_workloads.Generator's input

PRESETS = {
    # configs/dcgan/default.toml
    "dcgan": dict(batch=128, lr=2e-4, betas=(0.5, 0.999), d_steps=1, critic_bn=True, gp=0.0),
    # configs/wgan-gp/fashion.toml
    "wgan-gp": dict(batch=64, lr=1e-4, betas=(0.0, 0.9), d_steps=5, critic_bn=False, gp=10.0),
}


def load():
    with gzip.open(f"{DIR}/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    return torch.from_numpy(x.astype(np.float32) / 127.5 - 1.0)


def gradient_penalty(d, real, fake):
    eps = torch.rand(real.shape[0], 1, 1, 1)
    x_hat = (eps * real + (1 - eps) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(d(x_hat).sum(), x_hat, create_graph=True)
    norm = (grad.flatten(1).pow(2).sum(1) + 1e-12).sqrt()
    return (norm - 1).pow(2).mean()


def grid_png(x, path, cols=8, scale=2, gutter=2):
    """genlab_viz::Grid's layout: images in [-1, 1] to grey levels, gutters RGB (40, 40, 48)."""
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    n, h, w = x.shape
    rows = -(-n // cols)
    ch, cw = h * scale, w * scale
    img = np.empty((rows * (ch + gutter) + gutter, cols * (cw + gutter) + gutter, 3), np.uint8)
    img[:] = (40, 40, 48)
    for i in range(n):
        r, c = divmod(i, cols)
        y0, x0 = gutter + r * (ch + gutter), gutter + c * (cw + gutter)
        big = x[i].repeat(scale, 0).repeat(scale, 1)
        img[y0 : y0 + ch, x0 : x0 + cw] = big[:, :, None]
    plt.imsave(path, img)


def write_idx(x, folder):
    """Samples in [-1, 1] as 8-bit IDX images (and zero labels) named like Fashion-MNIST's test
    split, so that `genlab features idx:FOLDER` reads them as a data set."""
    import os
    import struct

    os.makedirs(folder, exist_ok=True)
    x = ((x.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).numpy()[:, 0]
    n, h, w = x.shape
    with open(f"{folder}/t10k-images-idx3-ubyte", "wb") as f:
        f.write(struct.pack(">iiii", 0x0803, n, h, w) + x.tobytes())
    with open(f"{folder}/t10k-labels-idx1-ubyte", "wb") as f:
        f.write(struct.pack(">ii", 0x0801, n) + bytes(n))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(PRESETS))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--out", required=True, help="sample grid PNG")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--idx-out", help="also write --n samples here as IDX files (t10k-*), for `genlab features idx:DIR`")
    p.add_argument("--n", type=int, default=10000)
    a = p.parse_args()
    cfg = PRESETS[a.model]
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    data = load()
    g, d = Generator(), Discriminator(cfg["critic_bn"])
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg["lr"], betas=cfg["betas"])
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg["lr"], betas=cfg["betas"])
    b, order, pos = cfg["batch"], torch.randperm(len(data)), 0
    start = time.perf_counter()
    for step in range(a.steps):
        if pos + b > len(data):
            order, pos = torch.randperm(len(data)), 0
        real = data[order[pos : pos + b]]
        pos += b
        fake = g(torch.randn(b, Z)).detach()
        if cfg["gp"] > 0:  # critic: D(G(z)) - D(x) + lambda (|grad D(x_hat)| - 1)^2
            d_loss = d(fake).mean() - d(real).mean() + cfg["gp"] * gradient_penalty(d, real, fake)
        else:  # -log D(x) - log(1 - D(G(z)))
            d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        opt_d.step()
        if (step + 1) % cfg["d_steps"] == 0:
            d.requires_grad_(False)
            score = d(g(torch.randn(b, Z)))
            g_loss = -score.mean() if cfg["gp"] > 0 else F.softplus(-score).mean()
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()
            opt_g.step()
            d.requires_grad_(True)
    seconds = time.perf_counter() - start
    g.eval()
    with torch.no_grad():
        grid_png(g(torch.randn(64, Z)), a.out)
        if a.idx_out:
            x = torch.cat([g(torch.randn(500, Z)) for _ in range(-(-a.n // 500))])[: a.n]
            write_idx(x, a.idx_out)
    print(json.dumps({"steps": a.steps, "s_per_step": seconds / a.steps, "d_loss": d_loss.item(), "g_loss": g_loss.item()}))


if __name__ == "__main__":
    main()
