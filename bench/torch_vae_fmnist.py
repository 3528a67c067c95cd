"""PyTorch reference for the VAE quality benchmark: the same MLP 784-400-20 Bernoulli VAE as
`genlab train vae --preset default`, Adam 1e-3, batch 100, dynamic binarization for training,
one fixed binarization of the test set, test NLL by the IWAE estimate with K samples."""
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


class Vae(nn.Module):
    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
        self.dec = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))

    def elbo(self, x):
        mu, log_var = self.enc(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        rec = -F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(1)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1).sum(1)
        return rec - kl

    @torch.no_grad()
    def iwae(self, x, k):
        mu, log_var = self.enc(x).chunk(2, dim=1)
        b = x.shape[0]
        mu, log_var = mu.repeat_interleave(k, 0), log_var.repeat_interleave(k, 0)
        xs = x.repeat_interleave(k, 0)
        std = torch.exp(0.5 * log_var)
        z = mu + std * torch.randn_like(mu)
        log_q = (-0.5 * (((z - mu) / std) ** 2 + log_var + math.log(2 * math.pi))).sum(1)
        log_p = (-0.5 * (z**2 + math.log(2 * math.pi))).sum(1)
        log_px = -F.binary_cross_entropy_with_logits(self.dec(z), xs, reduction="none").sum(1)
        w = (log_p + log_px - log_q).view(b, k)
        return torch.logsumexp(w, 1) - math.log(k)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--steps", type=int, default=20000)
    p.add_argument("--k", type=int, default=1000)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    train, test = load("train"), load("t10k")
    test_bin = (torch.rand(test.shape, generator=torch.Generator().manual_seed(1)) < test).float()
    model = Vae()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    start = time.time()
    perm, pos = torch.randperm(len(train)), 0
    for step in range(a.steps):
        if pos + 100 > len(train):
            perm, pos = torch.randperm(len(train)), 0
        xb = train[perm[pos : pos + 100]]
        pos += 100
        xb = (torch.rand_like(xb) < xb).float()
        loss = -model.elbo(xb).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    train_s = time.time() - start
    rows = max(1, 2048 // a.k)
    ll = torch.cat([model.iwae(test_bin[i : i + rows], a.k) for i in range(0, len(test_bin), rows)])
    nll = -ll.mean().item()
    print(json.dumps({"nll_nats": nll, "bits_per_dim": nll / (784 * math.log(2)), "k": a.k, "train_s": train_s, "n_examples": len(ll)}))
