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
  nade      `genlab train nade` (default): 500 sigmoid hidden units, raster order, Adam 1e-3,
            batch 100; binarized as above.
  gated-pixelcnn  `genlab train gated-pixelcnn` (default): class-conditional Gated PixelCNN,
            8 layers of 32 maps, head 64; Adam 1e-3, batch 32; binarized as above; the test
            likelihood is the marginal over the 10 classes.
  pixelcnn++  `genlab train pixelcnn++` (default): 32 maps, 2 scales, 2 gated ResNet blocks,
            5 logistics; Adam 1e-3, batch 32; the 8-bit pixels, discrete likelihood.
Prints one JSON line: training seconds and ms/step (over the steps after --warmup), and (unless
--test 0) the test NLL (nats) and bits/dim."""
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
def logit_transform(x, a=0.05):
    """y = logit(a + (1 - 2a) x) and its log-determinant, as genlab's `logit_forward`."""
    p = a + (1 - 2 * a) * x
    logdet = (-torch.log(p) - torch.log1p(-p)).sum(1) + x.shape[1] * math.log(1 - 2 * a)
    return torch.log(p) - torch.log1p(-p), logdet


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


def walk(plan, layers, y, logdet, layer):
    """The multi-scale walk of RealNVP and Glow over `y [b, 784]` (after the logit transform,
    whose log-determinant `logdet` starts the sum): ("layer", ..) applies the next of `layers`
    by `layer(module, op, t) -> (t, log-det)`, ("squeeze",) trades space for channels,
    ("split",) factors out half the channels; -> log p(y) under a standard normal prior."""
    t, zs, it = y.view(-1, 1, 28, 28), [], iter(layers)
    for op in plan:
        if op[0] == "layer":
            t, ld = layer(next(it), op, t)
            logdet = logdet + ld
        elif op[0] == "squeeze":
            t = squeeze(t)
        else:
            c = t.shape[1]
            zs.append(t[:, c // 2 :].flatten(1)); t = t[:, : c // 2]
    z = torch.cat(zs + [t.flatten(1)], 1)
    return (-0.5 * (z**2 + math.log(2 * math.pi))).sum(1) + logdet


class RealNvp(nn.Module):
    def __init__(self, scales=2, final=4, alpha=0.05):
        super().__init__()
        self.alpha, self.plan, layers = alpha, [], []
        c = 1
        for _ in range(scales):
            for i in range(3):
                self.plan.append(("layer", "checker", i % 2 == 1)); layers.append(Coupling(c))
            self.plan.append(("squeeze",)); c *= 4
            for i in range(3):
                self.plan.append(("layer", "channel", i % 2 == 1)); layers.append(Coupling(c))
            self.plan.append(("split",)); c //= 2
        for i in range(final):
            self.plan.append(("layer", "checker", i % 2 == 1)); layers.append(Coupling(c))
        self.layers = nn.ModuleList(layers)

    def log_prob(self, x):
        y, logdet = logit_transform(x, self.alpha)
        return walk(self.plan, self.layers, y, logdet, lambda layer, op, t: layer(t, mask(op[1], op[2], *t.shape[1:])))



# --- MAF and Glow ----------------------------------------------------------------------------
class MafMade(nn.Module):
    """One MADE of a MAF: D -> hidden (ReLU) -> (mu, alpha), the input order reversed in every
    other layer."""

    def __init__(self, d, hidden, reverse, seed):
        super().__init__()
        self.l1, self.l2 = MaskedLinear(d, hidden), MaskedLinear(hidden, 2 * d)
        g = torch.Generator().manual_seed(seed)
        deg_in = torch.arange(d, 0, -1) if reverse else torch.arange(1, d + 1)
        deg_h = torch.randint(1, d, (hidden,), generator=g)
        self.l1.mask.copy_((deg_h[:, None] >= deg_in[None, :]).float())
        self.l2.mask.copy_((deg_in.repeat(2)[:, None] > deg_h[None, :]).float())

    def forward(self, u):
        return self.l2(F.relu(self.l1(u))).chunk(2, 1)


class Maf(nn.Module):
    """`genlab train maf --preset fashion`: the logit transform (alpha 0.05), then 5 MADEs of one
    hidden layer of 1024 ReLU units, u = (x - mu) exp(-alpha) each; Adam 1e-4, batch 100."""

    def __init__(self, d=784, hidden=1024, layers=5):
        super().__init__()
        self.mades = nn.ModuleList([MafMade(d, hidden, l % 2 == 1, l) for l in range(layers)])

    def log_prob(self, x):
        u, logdet = logit_transform(x)
        for made in self.mades:
            mu, alpha = made(u)
            u, logdet = (u - mu) * torch.exp(-alpha), logdet - alpha.sum(1)
        return (-0.5 * (u**2 + math.log(2 * math.pi))).sum(1) + logdet


class ActNorm(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bias, self.log_scale = nn.Parameter(torch.zeros(c)), nn.Parameter(torch.zeros(c))
        self.ready = False

    def forward(self, x):
        if not self.ready:  # data-dependent initialisation on the first batch
            with torch.no_grad():
                self.bias.copy_(-x.mean((0, 2, 3)))
                self.log_scale.copy_(-torch.log(x.var((0, 2, 3)).sqrt() + 1e-6))
            self.ready = True
        y = (x + self.bias[None, :, None, None]) * torch.exp(self.log_scale)[None, :, None, None]
        return y, x.shape[2] * x.shape[3] * self.log_scale.sum()


class InvConv1x1(nn.Module):
    """Invertible 1x1 convolution, LU-decomposed (Kingma & Dhariwal 2018, sec. 3.2)."""

    def __init__(self, c, seed):
        super().__init__()
        q = torch.linalg.qr(torch.randn(c, c, generator=torch.Generator().manual_seed(seed)))[0]
        p, l, u = torch.linalg.lu(q)
        self.register_buffer("p", p)
        self.register_buffer("sign", torch.sign(torch.diagonal(u)))
        self.lower, self.upper = nn.Parameter(l), nn.Parameter(u)
        self.log_s = nn.Parameter(torch.log(torch.diagonal(u).abs()))

    def forward(self, x):
        c = self.p.shape[0]
        eye = torch.eye(c)
        w = self.p @ (self.lower.tril(-1) + eye) @ (self.upper.triu(1) + torch.diag(self.sign * self.log_s.exp()))
        return F.conv2d(x, w[:, :, None, None]), x.shape[2] * x.shape[3] * self.log_s.sum()


class Glow(nn.Module):
    """`genlab train glow --preset fashion`: the logit transform, 2 levels (squeeze; 4 steps of
    actnorm, invertible 1x1 convolution and an affine coupling of the channel halves, its net
    3x3 -> 32, one residual 3x3, zero 3x3; factor out half after the first level); Adam 1e-3,
    batch 64, gradient norm clipped at 100."""

    def __init__(self, levels=2, steps=4):
        super().__init__()
        self.plan, layers, c = [], [], 1
        for level in range(levels):
            self.plan.append(("squeeze",)); c *= 4
            for _ in range(steps):
                self.plan.append(("layer",))
                layers.append(nn.ModuleList([ActNorm(c), InvConv1x1(c, len(layers)), Coupling(c)]))
            if level + 1 < levels:
                self.plan.append(("split",)); c //= 2
        self.layers = nn.ModuleList(layers)

    def log_prob(self, x):
        y, logdet = logit_transform(x)
        return walk(self.plan, self.layers, y, logdet, self.step)

    @staticmethod
    def step(layers, _op, t):
        norm, mix, couple = layers
        t, ld1 = norm(t)
        t, ld2 = mix(t)
        t, ld3 = couple(t, mask("channel", False, *t.shape[1:]))
        return t, ld1 + ld2 + ld3


# --- NADE ------------------------------------------------------------------------------------
class Nade(nn.Module):
    """`genlab train nade` (default): W, V [D, H], c [H], b [D], sigmoid hidden units, raster
    order. A loop over the dimensions (a_{d+1} = a_d + x_d W_d), as pytorch-generative's NADE:
    3.2x faster here than the vectorised form (one cumsum over a [b, D, H] tensor: 1.19 s
    against 0.37 s per step at batch 100)."""

    def __init__(self, d=784, h=500):
        super().__init__()
        u = lambda fan_in, *shape: nn.Parameter(torch.empty(*shape).uniform_(-fan_in**-0.5, fan_in**-0.5))
        self.w, self.v = u(d, d, h), u(h, d, h)
        self.c, self.b = nn.Parameter(torch.zeros(h)), nn.Parameter(torch.zeros(d))

    def log_prob(self, x):
        a, logits = self.c.expand(len(x), -1), []
        for d in range(x.shape[1]):
            logits.append(torch.sigmoid(a) @ self.v[d] + self.b[d])
            a = a + x[:, d : d + 1] * self.w[d]
        logits = torch.stack(logits, 1)
        return -F.binary_cross_entropy_with_logits(logits, x, reduction="none").sum(1)


# --- Gated PixelCNN --------------------------------------------------------------------------
def shift_down(t):
    return F.pad(t, (0, 0, 1, 0))[:, :, :-1]


def shift_right(t):
    return F.pad(t, (1, 0))[:, :, :, :-1]


def gate(t):
    a, b = t.chunk(2, 1)
    return torch.tanh(a) * torch.sigmoid(b)


class GatedLayer(nn.Module):
    def __init__(self, c_in, p, k, classes):
        super().__init__()
        self.r = k // 2
        self.v_conv = nn.Conv2d(c_in, 2 * p, (self.r + 1, k))
        self.h_conv = nn.Conv2d(c_in, 2 * p, (1, self.r + 1))
        self.v_to_h, self.h_out = nn.Conv2d(2 * p, 2 * p, 1), nn.Conv2d(p, p, 1)
        self.cond, self.residual, self.p = nn.Linear(classes, 4 * p), c_in == p, p

    def forward(self, v, h, y):
        r, p = self.r, self.p
        vf = self.v_conv(F.pad(v, (r, r, r, 0)))  # rows up to and including this one
        hf = self.h_conv(F.pad(h, (r, 0))) + self.v_to_h(shift_down(vf))
        bias = self.cond(y)[:, :, None, None]
        vf, hf = vf + bias[:, : 2 * p], hf + bias[:, 2 * p :]
        out = self.h_out(gate(hf))
        return gate(vf), (h + out if self.residual else out)


class GatedPixelCnn(nn.Module):
    """`genlab train gated-pixelcnn` (default): class-conditional, 8 gated layers of 32 maps
    (the first 7x7, the rest 3x3, as vertical (r+1)xk and horizontal 1x(r+1) convolutions),
    a 1x1 head of 64, ReLU, Bernoulli logits; log p(x) on the test set is the mean over the 10
    classes, as genlab's exact marginal."""

    conditional = True

    def __init__(self, p=32, layers=8, k=3, head=64, classes=10):
        super().__init__()
        self.layers = nn.ModuleList([GatedLayer(1 if i == 0 else p, p, 7 if i == 0 else k, classes)
                                     for i in range(layers)])
        self.head, self.out, self.classes = nn.Conv2d(p, head, 1), nn.Conv2d(head, 1, 1), classes

    def log_prob(self, x, y):
        img = x.view(-1, 1, 28, 28)
        v, h, y1 = img, shift_right(img), F.one_hot(y, self.classes).float()
        for layer in self.layers:
            v, h = layer(v, h, y1)
        logits = self.out(F.relu(self.head(F.relu(h))))
        return -F.binary_cross_entropy_with_logits(logits.view(-1, 784), x, reduction="none").sum(1)

    def marginal(self, x):
        per_class = [self.log_prob(x, torch.full((len(x),), c)) for c in range(self.classes)]
        return torch.logsumexp(torch.stack(per_class, 1), 1) - math.log(self.classes)


# --- PixelCNN++ ------------------------------------------------------------------------------
def concat_elu(t):
    return F.elu(torch.cat([t, -t], 1))


class Shifted(nn.Module):
    """A convolution that sees only the rows above (and, `right`, the columns to the left)."""

    def __init__(self, i, o, k, right, stride=1):
        super().__init__()
        kh, kw = k
        self.pad = (kw - 1, 0, kh - 1, 0) if right else ((kw - 1) // 2, (kw - 1) // 2, kh - 1, 0)
        self.conv = nn.Conv2d(i, o, k, stride=stride)

    def forward(self, x):
        return self.conv(F.pad(x, self.pad))


class ShiftedUp(nn.Module):
    def __init__(self, c, right):
        super().__init__()
        self.right = right
        self.conv = nn.ConvTranspose2d(c, c, (2, 2) if right else (2, 3), stride=2, output_padding=1)

    def forward(self, x):
        _, _, h, w = x.shape
        col = 0 if self.right else 1
        return self.conv(x)[:, :, : 2 * h, col : col + 2 * w]


class GatedResnet(nn.Module):
    def __init__(self, f, aux, right):
        super().__init__()
        k = (2, 2) if right else (2, 3)
        self.first, self.second = Shifted(2 * f, f, k, right), Shifted(2 * f, 2 * f, k, right)
        self.aux = nn.Conv2d(2 * aux, f, 1) if aux else None

    def forward(self, x, a=None):
        c = self.first(concat_elu(x))
        if self.aux is not None:
            c = c + self.aux(concat_elu(a))
        a, b = self.second(concat_elu(c)).chunk(2, 1)
        return x + a * torch.sigmoid(b)


def dmol_log_prob(x, params):
    """Discretized mixture of logistics (Salimans et al. 2017, eq. 2) for one channel:
    x [b, P, 1] in [-1, 1], params [b, P, 3K] -> [b, P]; as genlab's `dmol_log_prob`."""
    k = params.shape[2] // 3
    logit_pi, mu, log_s = params[..., :k], params[..., k : 2 * k], params[..., 2 * k :].clamp(min=-7.0)
    centered, inv_s = x - mu, torch.exp(-log_s)
    plus, minus = inv_s * (centered + 1 / 255), inv_s * (centered - 1 / 255)
    log_cdf_plus = plus - F.softplus(plus)
    log_one_minus_cdf_min = -F.softplus(minus)
    delta = torch.sigmoid(plus) - torch.sigmoid(minus)
    mid = inv_s * centered
    log_pdf_mid = mid - log_s - 2 * F.softplus(mid)
    interior = torch.where(delta < 1e-5, log_pdf_mid - math.log(127.5), delta.clamp(min=1e-12).log())
    x = x.expand_as(interior)
    log_p = torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, interior))
    return torch.logsumexp(log_p + F.log_softmax(logit_pi, 2), 2)


class PixelCnnPp(nn.Module):
    """`genlab train pixelcnn++` (default): two shifted streams (u: rows above; ul: above and to
    the left) of 32 maps, 2 scales with 2 gated ResNet blocks each on the way up and 2, 3 on the
    way down, skips from the up pass, a mixture of 5 logistics per pixel; no dropout or weight
    norm, as genlab's. 8-bit pixels, discrete likelihood."""

    def __init__(self, f=32, resnets=2, scales=2, mixtures=5):
        super().__init__()
        down_blocks = resnets + (scales - 1) * (resnets + 1)
        self.resnets, self.scales = resnets, scales
        self.u_init = Shifted(2, f, (2, 3), False)
        self.ul_init_down, self.ul_init_right = Shifted(2, f, (1, 3), False), Shifted(2, f, (2, 1), True)
        self.up_u = nn.ModuleList([GatedResnet(f, 0, False) for _ in range(scales * resnets)])
        self.up_ul = nn.ModuleList([GatedResnet(f, f, True) for _ in range(scales * resnets)])
        self.down_sample_u = nn.ModuleList([Shifted(f, f, (2, 3), False, 2) for _ in range(scales - 1)])
        self.down_sample_ul = nn.ModuleList([Shifted(f, f, (2, 2), True, 2) for _ in range(scales - 1)])
        self.down_u = nn.ModuleList([GatedResnet(f, f, False) for _ in range(down_blocks)])
        self.down_ul = nn.ModuleList([GatedResnet(f, 2 * f, True) for _ in range(down_blocks)])
        self.up_sample_u = nn.ModuleList([ShiftedUp(f, False) for _ in range(scales - 1)])
        self.up_sample_ul = nn.ModuleList([ShiftedUp(f, True) for _ in range(scales - 1)])
        self.out = nn.Conv2d(2 * f, 3 * mixtures, 1)

    def net(self, x):
        x = torch.cat([x, torch.ones_like(x)], 1)
        us = [shift_down(self.u_init(x))]
        uls = [shift_down(self.ul_init_down(x)) + shift_right(self.ul_init_right(x))]
        block = 0
        for scale in range(self.scales):
            for _ in range(self.resnets):
                us.append(self.up_u[block](us[-1]))
                uls.append(self.up_ul[block](uls[-1], us[-1]))
                block += 1
            if scale + 1 < self.scales:
                us.append(self.down_sample_u[scale](us[-1]))
                uls.append(self.down_sample_ul[scale](uls[-1]))
        u, ul, block = us.pop(), uls.pop(), 0
        for scale in range(self.scales):
            for _ in range(self.resnets if scale == 0 else self.resnets + 1):
                u = self.down_u[block](u, us.pop())
                ul = self.down_ul[block](ul, torch.cat([u, uls.pop()], 1))
                block += 1
            if scale + 1 < self.scales:
                u, ul = self.up_sample_u[scale](u), self.up_sample_ul[scale](ul)
        return self.out(concat_elu(ul))

    def log_prob(self, x):
        x = x * 2 - 1
        params = self.net(x.view(-1, 1, 28, 28))  # [b, 3K, 28, 28]
        params = params.flatten(2).transpose(1, 2)  # [b, 784, 3K]
        return dmol_log_prob(x[:, :, None], params).sum(1)


# data: "binary" (dynamic binarization; the test set binarized once), "dequantized" (uniform
# noise; the NLL is made discrete by + 784 log 256), "discrete" (the 8-bit pixels themselves).
SETTINGS = {
    "made": dict(make=Made, batch=100, data="binary", clip=None),
    "pixelcnn": dict(make=PixelCnn, batch=32, data="binary", clip=None),
    "realnvp": dict(make=RealNvp, batch=64, data="dequantized", clip=100.0),
    "nade": dict(make=Nade, batch=100, data="binary", clip=None),
    "gated-pixelcnn": dict(make=GatedPixelCnn, batch=32, data="binary", clip=None),
    "pixelcnn++": dict(make=PixelCnnPp, batch=32, data="discrete", clip=None),
    "maf": dict(make=Maf, batch=100, data="dequantized", clip=None, lr=1e-4),
    "glow": dict(make=Glow, batch=64, data="dequantized", clip=100.0),
}

def labels(prefix):
    with gzip.open(f"{DIR}/{prefix}-labels-idx1-ubyte.gz") as f:
        return torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("model", choices=sorted(SETTINGS))
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--test", type=int, default=10000, help="test images to evaluate (0: time the steps only)")
    p.add_argument("--warmup", type=int, default=0, help="first steps left out of ms_per_step")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    cfg = SETTINGS[a.model]
    train, test = load("train"), load("t10k")[: a.test]
    train_y = labels("train")
    g = torch.Generator().manual_seed(1)
    kind = cfg["data"]
    if kind == "binary":
        test = (torch.rand(test.shape, generator=g) < test).float()
    elif kind == "dequantized":
        test = (test * 255 + torch.rand(test.shape, generator=g)) / 256
    model = cfg["make"]()
    conditional = getattr(model, "conditional", False)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.get("lr", 1e-3))
    b = cfg["batch"]
    start = time.time()
    perm, pos = torch.randperm(len(train)), 0
    for step in range(a.steps):
        if step == a.warmup:
            clock = time.time()
        if pos + b > len(train):
            perm, pos = torch.randperm(len(train)), 0
        idx = perm[pos : pos + b]
        xb = train[idx]
        pos += b
        if kind == "binary":
            xb = (torch.rand_like(xb) < xb).float()
        elif kind == "dequantized":
            xb = (xb * 255 + torch.rand_like(xb)) / 256
        loss = -(model.log_prob(xb, train_y[idx]) if conditional else model.log_prob(xb)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if cfg["clip"]:
            nn.utils.clip_grad_norm_(model.parameters(), cfg["clip"])
        opt.step()
    end = time.time()
    train_s = end - start
    timed = a.steps - a.warmup
    row = {"model": a.model, "steps": a.steps, "train_s": train_s, "warmup": a.warmup,
           "ms_per_step": 1000 * (end - clock if timed > 0 else train_s) / max(timed, 1)}
    if len(test):
        with torch.no_grad():
            log_p = model.marginal if conditional else model.log_prob
            ll = torch.cat([log_p(test[i : i + 500]) for i in range(0, len(test), 500)])
        nll = -ll.mean().item()
        if kind == "dequantized":
            nll += 784 * math.log(256)
        row |= {"nll_nats": nll, "bits_per_dim": nll / (784 * math.log(2)), "n_examples": len(ll)}
    print(json.dumps(row))
