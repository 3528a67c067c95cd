"""scikit-learn side of the classical-model benchmark (`bash bench/run.sh classical`).

  prep --out bench/data        Fashion-MNIST -> PCA-50 sets, init means, binarized sets (.npy)
  gmm  --x X.npy --means M.npy --covariance full|diag|tied|spherical --iters T --reg 1e-6
  rbm  --train B.npy --test B.npy --hidden 500 --batch 100 --epochs E --lr 0.01 --seed 0

`gmm` and `rbm` print one JSON line on stdout (warnings go to stderr).
"""
import argparse
import gzip
import json
import os
import struct
import sys
import time
import warnings

import numpy as np

FMNIST = "/usr/share/datasets/fashion-mnist"


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    zero, dtype_code, ndim = struct.unpack(">HBB", data[:4])
    assert zero == 0 and dtype_code == 0x08, f"{path}: not an unsigned-byte IDX file"
    dims = struct.unpack(">" + "I" * ndim, data[4 : 4 + 4 * ndim])
    arr = np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim)
    assert arr.size == int(np.prod(dims)), f"{path}: size mismatch"
    return arr.reshape(dims)


def load_images(split):
    name = "train" if split == "train" else "t10k"
    imgs = read_idx(os.path.join(FMNIST, f"{name}-images-idx3-ubyte.gz"))
    return imgs.reshape(imgs.shape[0], -1)  # (n, 784) uint8


def cmd_prep(a):
    os.makedirs(a.out, exist_ok=True)
    train_u8, test_u8 = load_images("train"), load_images("test")
    x = train_u8.astype(np.float64) / 255.0
    xt = test_u8.astype(np.float64) / 255.0

    # PCA to 50 dims: eigh of the (biased) train covariance; components ordered by decreasing
    # eigenvalue, each sign-fixed so that its largest-|.| entry is positive.
    mean = x.mean(axis=0)
    xc = x - mean
    cov = xc.T @ xc / x.shape[0]
    evals, evecs = np.linalg.eigh(cov)
    order = np.argsort(evals)[::-1][:50]
    comps = evecs[:, order].T  # (50, 784)
    idx = np.argmax(np.abs(comps), axis=1)
    comps *= np.sign(comps[np.arange(comps.shape[0]), idx])[:, None]

    z = np.ascontiguousarray(xc @ comps.T)  # (60000, 50)
    zt = np.ascontiguousarray((xt - mean) @ comps.T)  # (10000, 50)
    rng = np.random.default_rng(0)
    z4 = np.tile(z, (4, 1)) + rng.normal(0.0, 0.01, size=(4 * z.shape[0], z.shape[1]))
    init_idx = np.sort(np.random.default_rng(0).choice(z.shape[0], 10, replace=False))
    means = np.ascontiguousarray(z[init_idx])

    out = {
        "fmnist-pca50.npy": z,
        "fmnist-pca50-x4.npy": np.ascontiguousarray(z4),
        "fmnist-pca50-test.npy": zt,
        "init-means-k10.npy": means,
        "fmnist-bin-train.npy": (train_u8.astype(np.float64) / 255.0 > 0.5).astype(np.uint8),
        "fmnist-bin-test.npy": (test_u8.astype(np.float64) / 255.0 > 0.5).astype(np.uint8),
    }
    for name, arr in out.items():
        np.save(os.path.join(a.out, name), arr)
        print(f"{name}: {arr.shape} {arr.dtype}", file=sys.stderr)
    explained = evals[order].sum() / evals.sum()
    print(f"init indices: {init_idx.tolist()}; PCA-50 explains {explained:.4f} of the variance",
          file=sys.stderr)


def blas_threads():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    blas = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
    return max(blas) if blas else None


def sklearn_version():
    import sklearn

    return sklearn.__version__


def gmm_precisions_init(x, k, cov_type, reg):
    """genlab's initial covariance for every component: the biased empirical covariance of
    all of X plus reg on the diagonal, passed to sklearn as precisions."""
    c = np.cov(x.T, bias=True) + reg * np.eye(x.shape[1])
    if cov_type == "full":
        return np.tile(np.linalg.inv(c)[None], (k, 1, 1))
    if cov_type == "tied":
        return np.linalg.inv(c)
    if cov_type == "diag":
        return np.tile(1.0 / np.diag(c), (k, 1))
    return np.full(k, 1.0 / np.mean(np.diag(c)))  # spherical


def cmd_gmm(a):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    x = np.load(a.x).astype(np.float64, copy=False)
    means = np.load(a.means).astype(np.float64, copy=False)
    k = means.shape[0]

    def make(max_iter):
        return GaussianMixture(
            n_components=k,
            covariance_type=a.covariance,
            max_iter=max_iter,
            tol=0.0,
            reg_covar=a.reg,
            init_params="random_from_data",  # cheap; all three *_init below override it
            weights_init=np.full(k, 1.0 / k),
            means_init=means,
            precisions_init=gmm_precisions_init(x, k, a.covariance, a.reg),
            random_state=0,
        )

    with warnings.catch_warnings():
        # tol=0 never "converges", so sklearn always warns; that is intended here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        gm = make(a.iters)
        t0 = time.perf_counter()
        gm.fit(x)
        fit_s = time.perf_counter() - t0
    mean_loglik = float(gm.score(x))
    # fit() also runs an initial parameter estimate from one-hot responsibilities (an M-step's
    # worth of work, then overridden by the *_init arrays) and one E-step after the last
    # iteration. Time those two on their own (private API; fit(max_iter=0) would do exactly
    # this but fails with precisions_init in sklearn 1.9), so fit_seconds - fit_overhead_seconds
    # is the T EM iterations. This overwrites gm's parameters, hence after score().
    try:
        t0 = time.perf_counter()
        gm._initialize_parameters(x, np.random.RandomState(0))
        gm._e_step(x)
        overhead_s = time.perf_counter() - t0
    except Exception as e:  # noqa: BLE001 - only an informational figure
        print(f"warning: could not time fit overhead: {e!r}", file=sys.stderr)
        overhead_s = None
    if gm.n_iter_ != a.iters:
        print(f"warning: sklearn ran {gm.n_iter_} EM iterations, not {a.iters}", file=sys.stderr)
    print(json.dumps({
        "impl": "sklearn",
        "covariance": a.covariance,
        "n": int(x.shape[0]),
        "d": int(x.shape[1]),
        "k": int(k),
        "iters": int(gm.n_iter_),
        "fit_seconds": fit_s,
        "fit_overhead_seconds": overhead_s,
        "mean_loglik": mean_loglik,
        "sklearn_version": sklearn_version(),
        "threads": blas_threads(),
    }))


def cmd_rbm(a):
    from sklearn.neural_network import BernoulliRBM

    dt = np.dtype(a.dtype)
    train = np.load(a.train).astype(dt)
    test = np.load(a.test).astype(dt)
    rbm = BernoulliRBM(
        n_components=a.hidden,
        learning_rate=a.lr,
        batch_size=a.batch,
        n_iter=a.epochs,
        random_state=a.seed,
    )
    t0 = time.perf_counter()
    rbm.fit(train)
    fit_s = time.perf_counter() - t0
    # Stochastic pseudo-likelihood: flips one random bit per example and returns
    # n_features * log(sigmoid(F(v') - F(v))); the flips come from rbm.random_state_.
    pll = float(np.mean(rbm.score_samples(test)))
    print(json.dumps({
        "impl": "sklearn",
        "hidden": a.hidden,
        "batch": a.batch,
        "epochs": a.epochs,
        "seconds_per_epoch": fit_s / a.epochs,
        "pseudo_loglik": pll,
        "dtype": dt.name,
        "sklearn_version": sklearn_version(),
        "threads": blas_threads(),
    }))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    s = sub.add_parser("prep")
    s.add_argument("--out", default="bench/data")
    s.set_defaults(func=cmd_prep)

    s = sub.add_parser("gmm")
    s.add_argument("--x", required=True)
    s.add_argument("--means", required=True)
    s.add_argument("--covariance", choices=["full", "diag", "tied", "spherical"], default="full")
    s.add_argument("--iters", type=int, default=50)
    s.add_argument("--reg", type=float, default=1e-6)
    s.set_defaults(func=cmd_gmm)

    s = sub.add_parser("rbm")
    s.add_argument("--train", required=True)
    s.add_argument("--test", required=True)
    s.add_argument("--hidden", type=int, default=500)
    s.add_argument("--batch", type=int, default=100)
    s.add_argument("--epochs", type=int, default=2)
    s.add_argument("--lr", type=float, default=0.01)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--dtype", choices=["float32", "float64"], default="float32",
                   help="dtype the binary arrays are cast to (sklearn keeps float32)")
    s.set_defaults(func=cmd_rbm)

    a = p.parse_args()
    a.func(a)


if __name__ == "__main__":
    main()
