"""Fashion-MNIST's Sobel edge maps as IDX files, for training a classifier on the edge maps
alone: how much of the item's class the input of the `edges:fashion-mnist` task still holds
(the ceiling of pix2pix's judged accuracy on that task; issue 23).

The edges are genlab's (genlab-data tasks.rs `sobel_edges`): luminance in [0, 1], Sobel
kernels with the border pixels repeated, magnitude over 4 sqrt(2), 1 above 0.2, else 0; written
as 0 / 255 bytes, with the labels unchanged.

    python bench/edges_idx.py OUT_DIR [FASHION_MNIST_DIR]
"""

import gzip
import pathlib
import struct
import sys

import numpy as np

OUT = pathlib.Path(sys.argv[1])
SRC = pathlib.Path(sys.argv[2] if len(sys.argv) > 2 else "/usr/share/datasets/fashion-mnist")
THRESHOLD = 0.2


def read_idx(path: pathlib.Path) -> np.ndarray:
    data = gzip.open(path).read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4:4 + 4 * dims])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * dims).reshape(shape)


def sobel_edges(images: np.ndarray) -> np.ndarray:
    g = images.astype(np.float32) / 255.0
    p = np.pad(g, ((0, 0), (1, 1), (1, 1)), mode="edge")
    at = lambda dr, dc: p[:, 1 + dr:p.shape[1] - 1 + dr, 1 + dc:p.shape[2] - 1 + dc]
    gx = (at(-1, 1) + 2 * at(0, 1) + at(1, 1)) - (at(-1, -1) + 2 * at(0, -1) + at(1, -1))
    gy = (at(1, -1) + 2 * at(1, 0) + at(1, 1)) - (at(-1, -1) + 2 * at(-1, 0) + at(-1, 1))
    m = np.sqrt(gx * gx + gy * gy) / np.float32(4 * np.sqrt(2))
    return np.where(m > THRESHOLD, 255, 0).astype(np.uint8)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for split in ["train", "t10k"]:
        images = read_idx(SRC / f"{split}-images-idx3-ubyte.gz")
        edges = sobel_edges(images)
        n, h, w = edges.shape
        with gzip.open(OUT / f"{split}-images-idx3-ubyte.gz", "wb") as f:
            f.write(struct.pack(">BBBBIII", 0, 0, 8, 3, n, h, w) + edges.tobytes())
        (OUT / f"{split}-labels-idx1-ubyte.gz").write_bytes((SRC / f"{split}-labels-idx1-ubyte.gz").read_bytes())
        print(f"{split}: {n} edge maps, {edges.mean() / 255:.3f} of pixels on", file=sys.stderr)


if __name__ == "__main__":
    main()
