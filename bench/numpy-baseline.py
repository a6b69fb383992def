"""numpy float64 baselines for bench/kernels.ts: matmul n³ and one MLP training step.

Run by the benchmark as a subprocess with OPENBLAS_NUM_THREADS set (1 or 2) and OPENBLAS_CORETYPE /
OPENBLAS_L2_SIZE removed from its environment. Reads the MLP's data (float64, little-endian, written by the
benchmark) from the directory given as argv[1]; prints one JSON object.

The MLP step is the core's: z1 = X·W1 + b1, h = sigmoid(z1), z2 = h·W2 + b2, loss = mean softmax cross-entropy
of z2 against one-hot Y, backpropagation by hand, then W ← W - lr·dW for every parameter. With "with_input"
it also forms d loss/d X, as gradserve's /v1/networks does.
"""
import json
import os
import sys
import time

import numpy as np


def blas_info():
    """What threadpoolctl says numpy's BLAS is; where it does not recognize numpy's bundled OpenBLAS (Debian's
    threadpoolctl 3.1 predates the scipy_openblas64_ naming of numpy >= 2), OpenBLAS's own get_corename and
    get_config, which is what threadpoolctl calls, asked directly."""
    source = "threadpoolctl not installed"
    try:
        try:
            import threadpoolctl
        except ImportError:
            sys.path.append("/usr/lib/python3/dist-packages")  # Debian's python3-threadpoolctl
            import threadpoolctl
        source = f"threadpoolctl {threadpoolctl.__version__}"
        blas = [i for i in threadpoolctl.threadpool_info() if i.get("user_api") == "blas"]
        if blas:
            i = blas[0]
            return {
                "source": source,
                "internal_api": i.get("internal_api"),
                "version": i.get("version"),
                "architecture": i.get("architecture"),
                "num_threads": i.get("num_threads"),
            }
        source += " found no BLAS"
    except Exception as e:  # noqa: BLE001 - only reported
        source = f"threadpoolctl failed: {e}"
    return {**openblas_self_report(), "source": f"{source}; OpenBLAS's own get_corename/get_config"}


def openblas_self_report():
    import ctypes
    import glob

    root = os.path.dirname(os.path.dirname(np.__file__))
    for lib in glob.glob(os.path.join(root, "numpy.libs", "*openblas*")) + glob.glob(
        os.path.join(os.path.dirname(np.__file__), ".libs", "*openblas*")
    ):
        handle = ctypes.CDLL(lib)
        for prefix, suffix in (("scipy_openblas_", "64_"), ("openblas_", "64_"), ("openblas_", "")):
            try:
                corename = getattr(handle, f"{prefix}get_corename{suffix}")
                config = getattr(handle, f"{prefix}get_config{suffix}")
                threads = getattr(handle, f"{prefix}get_num_threads{suffix}")
            except AttributeError:
                continue
            corename.restype = config.restype = ctypes.c_char_p
            cfg = config().decode()
            return {
                "internal_api": "openblas",
                "version": cfg.split()[1] if cfg.startswith("OpenBLAS ") else cfg,
                "architecture": corename().decode(),
                "num_threads": threads(),
            }
    return {}


def measure(fn, min_reps=5, max_reps=200, max_seconds=3.0, warmup=2):
    """Median seconds of fn over at least min_reps and at most max_reps runs, stopping after max_seconds."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_reps and (len(times) < min_reps or time.perf_counter() - start < max_seconds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    times.sort()
    return {"median": times[len(times) // 2], "min": times[0], "reps": len(times)}


def main():
    data_dir = sys.argv[1]
    spec = json.load(open(os.path.join(data_dir, "spec.json")))
    n = spec["matmul"]
    rng = np.random.default_rng(1)
    a = rng.random((n, n))
    b = rng.random((n, n))
    mm = measure(lambda: a @ b)

    B, I, H, O = spec["batch"], spec["inputs"], spec["hidden"], spec["outputs"]
    lr = spec["learningRate"]

    def load(name, shape):
        return np.fromfile(os.path.join(data_dir, name + ".f64"), dtype="<f8").reshape(shape)

    X, Y = load("X", (B, I)), load("Y", (B, O))
    init = {"W1": load("W1", (I, H)), "b1": load("b1", (1, H)), "W2": load("W2", (H, O)), "b2": load("b2", (1, O))}

    def make_step(with_input):
        p = {k: v.copy() for k, v in init.items()}

        def step():
            z1 = X @ p["W1"] + p["b1"]
            h = 1.0 / (1.0 + np.exp(-z1))
            z2 = h @ p["W2"] + p["b2"]
            s = z2 - z2.max(axis=1, keepdims=True)
            e = np.exp(s)
            total = e.sum(axis=1, keepdims=True)
            loss = -(Y * (s - np.log(total))).sum() / B
            dz2 = (e / total - Y) / B
            dW2 = h.T @ dz2
            db2 = dz2.sum(axis=0, keepdims=True)
            dz1 = (dz2 @ p["W2"].T) * h * (1.0 - h)
            dW1 = X.T @ dz1
            db1 = dz1.sum(axis=0, keepdims=True)
            if with_input:
                dz1 @ p["W1"].T
            p["W1"] -= lr * dW1
            p["b1"] -= lr * db1
            p["W2"] -= lr * dW2
            p["b2"] -= lr * db2
            return loss

        return step

    first_loss = float(make_step(False)())
    print(
        json.dumps(
            {
                "numpy": np.__version__,
                "blas": blas_info(),
                "threads_env": os.environ.get("OPENBLAS_NUM_THREADS"),
                "matmul_seconds": mm,
                "mlp_seconds": measure(make_step(False)),
                "mlp_with_input_seconds": measure(make_step(True)),
                "first_loss": first_loss,
            }
        )
    )


if __name__ == "__main__":
    main()
