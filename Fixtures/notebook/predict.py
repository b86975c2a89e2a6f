"""What `fair serve` calls: the notebook's model is one number, predicted for every instance."""
import json
import os


def predict(model_dir, instances):
    with open(os.path.join(model_dir, "model.json")) as f:
        mean = json.load(f)["mean"]
    return [mean for _ in instances]
