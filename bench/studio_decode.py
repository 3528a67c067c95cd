"""The studio's latent decode round trip (issue 24): POST /api/explore/decode of one code of an
MLP VAE (the vae family's default, 784-400-20 on Fashion-MNIST) to a PNG data URI, timed from
the client, with the server idle and with a training job running on both cores.

    python3 bench/studio_decode.py GENLAB_BINARY [ROUNDS]

Appends one line to bench/results/studio.jsonl and prints it.
"""

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

BIN = os.path.abspath(sys.argv[1])
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 200
OUT = "bench/results/studio.jsonl"


def post(url, path, body):
    req = urllib.request.Request(
        url + path.lstrip("/"),
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def round_trips(url, n):
    rng = random.Random(0)
    times = []
    for _ in range(n):
        z = [[rng.gauss(0, 1) for _ in range(20)]]
        t = time.perf_counter()
        out = post(url, "/api/explore/decode", {"run": "vae", "z": z})
        times.append(1000 * (time.perf_counter() - t))
        assert out["pictures"][0].startswith("data:image/png;base64,")
    times.sort()
    return {
        "median_ms": round(statistics.median(times), 2),
        "p95_ms": round(times[int(0.95 * len(times)) - 1], 2),
        "max_ms": round(times[-1], 2),
    }


with tempfile.TemporaryDirectory() as d:
    subprocess.run(
        [BIN, "train", "vae", "--out", "runs/vae", "--steps", "300", "--quiet"],
        cwd=d,
        check=True,
    )
    server = subprocess.Popen(
        [BIN, "serve", "--runs", "runs", "--port", "0"], cwd=d, stdout=subprocess.PIPE, text=True
    )
    url = next(w for w in server.stdout.readline().split() if w.startswith("http://"))
    try:
        round_trips(url, 10)  # load the model once
        idle = round_trips(url, ROUNDS)
        job = post(
            url,
            "/api/jobs",
            {"family": "vae", "run": "job", "steps": 1000000, "set": ["train.checkpoint_every=1000000"]},
        )
        metrics = os.path.join(d, "runs/job/metrics.jsonl")
        while not (os.path.exists(metrics) and os.path.getsize(metrics) > 0):
            time.sleep(0.2)
        busy = round_trips(url, ROUNDS)
        post(url, "/api/jobs/stop", {"id": job["id"]})
    finally:
        server.terminate()
        server.wait()

line = {
    "date": time.strftime("%Y-%m-%d"),
    "what": "POST /api/explore/decode, one code of the vae default (MLP 784-400-20), client wall time",
    "rounds": ROUNDS,
    "cores": os.cpu_count(),
    "idle": idle,
    "training_job_running": busy,
    "target_ms": 50,
}
os.makedirs("bench/results", exist_ok=True)
with open(OUT, "a") as f:
    f.write(json.dumps(line) + "\n")
print(json.dumps(line, indent=1))
