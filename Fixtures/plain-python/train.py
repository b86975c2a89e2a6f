"""Fits y = w*x + b by gradient descent on data shipped with the project (plain Python)."""
import argparse
import json
import os

from fairdemo.model import LinearModel, load_points

parser = argparse.ArgumentParser()
parser.add_argument("--epochs", type=int, default=100)
args = parser.parse_args()

points = load_points(os.path.join(os.path.dirname(__file__), "data", "points.csv"))
model = LinearModel()
rate = float(os.environ.get("LEARNING_RATE", "0.01"))
for _ in range(args.epochs):
    loss = model.step(points, rate)

print(f"trained on {len(points)} points for {args.epochs} epochs")
print(f"w={model.w:.2f} b={model.b:.2f} loss={loss:.4f}")

# Under `fair train`, what lands in $FAIR_MODEL_DIR is stored as a versioned model (metrics.json
# becomes one of its annotations).
model_dir = os.environ.get("FAIR_MODEL_DIR")
if model_dir:
    with open(os.path.join(model_dir, "model.json"), "w") as f:
        json.dump({"w": model.w, "b": model.b}, f)
    with open(os.path.join(model_dir, "metrics.json"), "w") as f:
        json.dump({"loss": round(loss, 6), "epochs": args.epochs}, f)
