"""Least-squares fit of a noisy line with numpy, on data it generates from a fixed seed."""
import json
import os

import numpy as np

rng = np.random.default_rng(int(os.environ.get("SEED", "0")))
x = np.linspace(0.0, 1.0, 200)
y = 4.0 * x - 2.0 + rng.normal(0.0, 0.01, x.shape)
design = np.stack([x, np.ones_like(x)], axis=1)
(w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
print(f"numpy {np.__version__}")
print(f"w={w:.2f} b={b:.2f}")

model_dir = os.environ.get("FAIR_MODEL_DIR")
if model_dir:
    np.save(os.path.join(model_dir, "coefficients.npy"), np.array([w, b]))
