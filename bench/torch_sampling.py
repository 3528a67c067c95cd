"""PyTorch samplers of the networks genlab samples in `bash bench/run.sh sampling`, the way
PyTorch implementations draw them: the whole network runs once per pixel (PixelCNN) or per
dimension (MADE) on the batch being drawn, under no_grad, each pixel a Bernoulli draw.

  pixelcnn  genlab's `pixelcnn` default (bench/torch_likelihood.py's PixelCnn);
  made      genlab's `made` default (MADE 784-500-784, natural order).

Also times 30 training steps of the same network (batch as the preset's) for the issue's
target, 100 samples in at most a quarter of the time of 30 training steps. The weights are
untrained (sampling time does not depend on them). Prints one JSON line."""
import argparse
import json
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from torch_likelihood import Made, PixelCnn  # noqa: E402


def pixelcnn_logits(model, img):
    return model.out(F.relu(model.head(F.relu(model.blocks(model.first(img))))))


def sample_pixelcnn(model, n):
    img = torch.zeros(n, 1, 28, 28)
    for i in range(28):
        for j in range(28):
            p = torch.sigmoid(pixelcnn_logits(model, img)[:, 0, i, j])
            img[:, 0, i, j] = (torch.rand(n) < p).float()
    return img


def sample_made(model, n):
    x = torch.zeros(n, 784)
    for d in range(784):
        p = torch.sigmoid(model.l2(F.relu(model.l1(x)))[:, d])
        x[:, d] = (torch.rand(n) < p).float()
    return x


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("model", choices=["pixelcnn", "made"])
    ap.add_argument("-n", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model, batch, sample = {
        "pixelcnn": (PixelCnn(), 32, sample_pixelcnn),
        "made": (Made(), 100, sample_made),
    }[a.model]
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = (torch.rand(batch, 784) < 0.3).float()
    start = time.time()
    for _ in range(30):
        loss = -model.log_prob(x).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    train_s = time.time() - start
    with torch.no_grad():
        start = time.time()
        sample(model, a.n)
        sample_s = time.time() - start
    print(json.dumps({"model": a.model, "n": a.n, "sample_s": sample_s, "samples_per_s": a.n / sample_s,
                      "train30_s": train_s}))
