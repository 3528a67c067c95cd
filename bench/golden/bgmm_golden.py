"""Golden numbers for crates/genlab-models/src/classical/bgmm.rs (test
`matches_sklearn_iteration_by_iteration`).

Runs scikit-learn's BayesianGaussianMixture internals from fixed initial responsibilities on a
fixed 40 x 3 data set, both built from integer formulas (exact in f64, so Rust builds the very
same numbers), and writes the lower bound after each of ITERS variational iterations, the final
`weights_` and `means_` of every case to crates/genlab-models/tests/golden/bgmm.json, which the
test reads with include_str!. Numbers are written as strings of Python's repr (the shortest
string that round-trips) because the Rust side parses them with str::parse, which rounds
exactly, where serde_json's default float parser can land one ulp away.

    python3 -m venv /tmp/venv && /tmp/venv/bin/pip install scikit-learn numpy
    /tmp/venv/bin/python bench/golden/bgmm_golden.py

Produced with scikit-learn 1.9.1, numpy 2.4.6, scipy 1.17.1 (printed in the first line).
"""

import json
from pathlib import Path

import numpy as np
import scipy
import sklearn
from sklearn.mixture import BayesianGaussianMixture

N, D, K, ITERS = 40, 3, 4, 10
CENTERS = [(-2.0, 0.0, 1.0), (2.0, 0.5, -1.0), (0.0, 3.0, 0.5)]


def data():
    """Three clusters; u_t in [0, 1) from integer hashes, so every value is exact in f64."""
    rows = []
    for i in range(N):
        c = CENTERS[i % 3]
        u0 = ((i * 37 + 11) % 97) / 97.0
        u1 = ((i * 53 + 29) % 97) / 97.0
        u2 = ((i * 71 + 5) % 97) / 97.0
        rows.append(
            [
                c[0] + 1.5 * (u0 - 0.5),
                c[1] + 1.0 * (u1 - 0.5) + 0.5 * (u0 - 0.5),
                c[2] + 0.8 * (u2 - 0.5),
            ]
        )
    return np.array(rows)


def initial_resp():
    """Mostly the true cluster, the fourth component a spare; rows normalised left to right."""
    out = []
    for i in range(N):
        row = [float((i * 7 + j * 3) % 5 + 1 + (2 if j == i % 3 else 0)) for j in range(K)]
        s = 0.0
        for v in row:
            s += v
        out.append([v / s for v in row])
    return np.array(out)


# (name, constructor arguments): every covariance type with both weight priors at sklearn's
# defaults, and four cases with every prior given explicitly.
CASES = [
    (f"{cov}_{short}", dict(covariance_type=cov, weight_concentration_prior_type=kind))
    for kind, short in [("dirichlet_process", "dp"), ("dirichlet_distribution", "dd")]
    for cov in ["full", "tied", "diag", "spherical"]
]
EXPLICIT = dict(
    weight_concentration_prior=0.05,
    mean_precision_prior=0.5,
    mean_prior=[0.1, -0.2, 0.3],
    degrees_of_freedom_prior=4.5,
)
CASES += [
    (
        "full_dp_explicit",
        dict(
            covariance_type="full",
            weight_concentration_prior_type="dirichlet_process",
            covariance_prior=[[1.0, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 0.5]],
            **EXPLICIT,
        ),
    ),
    (
        "tied_dd_explicit",
        dict(
            covariance_type="tied",
            weight_concentration_prior_type="dirichlet_distribution",
            covariance_prior=[[1.0, 0.2, 0.0], [0.2, 0.8, 0.1], [0.0, 0.1, 0.5]],
            **EXPLICIT,
        ),
    ),
    (
        "diag_dd_explicit",
        dict(
            covariance_type="diag",
            weight_concentration_prior_type="dirichlet_distribution",
            covariance_prior=[0.5, 0.7, 0.9],
            **EXPLICIT,
        ),
    ),
    (
        "spherical_dp_explicit",
        dict(
            covariance_type="spherical",
            weight_concentration_prior_type="dirichlet_process",
            covariance_prior=0.6,
            **EXPLICIT,
        ),
    ),
]


def run(X, resp, **kwargs):
    bgm = BayesianGaussianMixture(n_components=K, reg_covar=1e-6, **kwargs)
    bgm._check_parameters(X)
    bgm._initialize(X, resp)
    bounds = []
    for _ in range(ITERS):
        # BaseMixture.fit_predict's loop body.
        log_prob_norm, log_resp = bgm._e_step(X)
        bgm._m_step(X, log_resp)
        # (an array of shape (1,) for "tied": item() takes the number out)
        bounds.append(np.asarray(bgm._compute_lower_bound(log_resp, log_prob_norm)).item())
    bgm._set_parameters(bgm._get_parameters())  # sets weights_
    return bounds, bgm


OUT = Path(__file__).resolve().parents[2] / "crates/genlab-models/tests/golden/bgmm.json"


NOTE = (
    "numbers are strings of Python's repr (shortest round-trip); the Rust test parses them with "
    "str::parse, which rounds exactly, where serde_json's default float parser can be one ulp off"
)


def exact(v):
    return [repr(float(x)) for x in v]


def main():
    """Writes OUT: one entry per case, with sklearn's names for the covariance and prior type."""
    X, resp = data(), initial_resp()
    cases = []
    for name, kwargs in CASES:
        bounds, bgm = run(X, resp, **kwargs)
        assert all(b >= a - 1e-9 * abs(a) for a, b in zip(bounds, bounds[1:])), name
        cases.append(
            {
                "name": name,
                "covariance": kwargs["covariance_type"],
                "weight_concentration_prior_type": kwargs["weight_concentration_prior_type"],
                "explicit": "mean_prior" in kwargs,
                "lower_bounds": exact(bounds),
                "weights": exact(bgm.weights_),
                "means": exact(bgm.means_.ravel()),
            }
        )
    golden = {
        "produced_with": f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, scipy {scipy.__version__}",
        "note": NOTE,
        "cases": cases,
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=2)
        f.write("\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
