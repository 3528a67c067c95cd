"""The speed workloads of `genlab bench speed`, in PyTorch, timed the same way: 3 warm-up
steps, then the median wall time of single full training steps (forward, backward, optimizer).
Prints one JSON object {workload: ms_per_step}."""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

WARMUP = 3


def timed(step, steps):
    times = []
    for i in range(WARMUP + steps):
        t = time.perf_counter()
        step()
        if i >= WARMUP:
            times.append(time.perf_counter() - t)
    times.sort()
    return times[len(times) // 2] * 1e3


class Vae(nn.Module):
    """W1: MLP VAE 784-400-20, Bernoulli decoder, as genlab's `vae` with hidden=[400]."""

    def __init__(self):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(784, 400), nn.ReLU(), nn.Linear(400, 40))
        self.dec = nn.Sequential(nn.Linear(20, 400), nn.ReLU(), nn.Linear(400, 784))

    def loss(self, x):
        mu, log_var = self.enc(x).chunk(2, dim=1)
        z = mu + torch.exp(0.5 * log_var) * torch.randn_like(mu)
        rec = -F.binary_cross_entropy_with_logits(self.dec(z), x, reduction="none").sum(1).mean()
        kl = 0.5 * (mu.pow(2) + log_var.exp() - log_var - 1).sum(1).mean()
        return kl - rec


def w1(steps):
    model = Vae()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(128, 784) > 0.5).float()

    def step():
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x)
        loss.backward()
        opt.step()
        loss.item()

    return timed(step, steps)


class Generator(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(100, 128 * 7 * 7)
        self.bn0 = nn.BatchNorm2d(128)
        self.up1 = nn.ConvTranspose2d(128, 64, 4, 2, 1)
        self.bn1 = nn.BatchNorm2d(64)
        self.up2 = nn.ConvTranspose2d(64, 1, 4, 2, 1)

    def forward(self, z):
        x = F.relu(self.bn0(self.fc(z).view(-1, 128, 7, 7)))
        x = F.relu(self.bn1(self.up1(x)))
        return torch.tanh(self.up2(x))


class Discriminator(nn.Module):
    def __init__(self, bn=True):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 64, 4, 2, 1)
        self.conv2 = nn.Conv2d(64, 128, 4, 2, 1)
        self.bn2 = nn.BatchNorm2d(128) if bn else nn.Identity()
        self.fc = nn.Linear(128 * 7 * 7, 1)

    def forward(self, x):
        x = F.leaky_relu(self.conv1(x), 0.2)
        x = F.leaky_relu(self.bn2(self.conv2(x)), 0.2)
        return self.fc(x.flatten(1))


def w2(steps):
    g, d = Generator(), Discriminator()
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(64, 1, 28, 28) * 2 - 1

    def step():
        fake = g(torch.randn(64, 100)).detach()
        opt_d.zero_grad(set_to_none=True)
        d_loss = F.softplus(-d(real)).mean() + F.softplus(d(fake)).mean()
        d_loss.backward()
        opt_d.step()
        opt_g.zero_grad(set_to_none=True)
        # D without gradients of its own in the G step, as genlab's gan families do.
        d.requires_grad_(False)
        g_loss = F.softplus(-d(g(torch.randn(64, 100)))).mean()
        g_loss.backward()
        d.requires_grad_(True)
        opt_g.step()
        d_loss.item(), g_loss.item()

    return timed(step, steps)


class MaskedConv2d(nn.Conv2d):
    def __init__(self, cin, cout, k, kind):
        super().__init__(cin, cout, k, padding=k // 2)
        mask = torch.zeros(k, k)
        c = k // 2
        mask[:c, :] = 1
        mask[c, :c] = 1
        if kind == "B":
            mask[c, c] = 1
        self.register_buffer("mask", mask[None, None])

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, self.bias, padding=self.padding)


class PixelCnnLite(nn.Module):
    def __init__(self):
        super().__init__()
        self.first = MaskedConv2d(1, 64, 7, "A")
        self.blocks = nn.ModuleList([MaskedConv2d(64, 64, 3, "B") for _ in range(5)])
        self.out = nn.Conv2d(64, 256, 1)

    def forward(self, x):
        h = F.relu(self.first(x))
        for b in self.blocks:
            h = F.relu(b(h))
        return self.out(h)


def w3(steps):
    net = PixelCnnLite()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    levels = (torch.rand(32, 1, 28, 28) * 255).long()
    x = levels.float() / 255

    def step():
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(net(x), levels[:, 0])
        loss.backward()
        opt.step()
        loss.item()

    return timed(step, steps)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--workloads", default="w1,w2,w3")
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--threads", type=int, default=2)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    fns = {"w1": w1, "w2": w2, "w3": w3}
    print(json.dumps({w: fns[w](a.steps) for w in a.workloads.split(",")}))
