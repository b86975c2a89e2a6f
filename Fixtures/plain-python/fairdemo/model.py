import csv


def load_points(path):
    with open(path) as f:
        return [(float(row["x"]), float(row["y"])) for row in csv.DictReader(f)]


class LinearModel:
    def __init__(self):
        self.w = 0.0
        self.b = 0.0

    def step(self, points, rate):
        n = len(points)
        grad_w = sum(2 * (self.w * x + self.b - y) * x for x, y in points) / n
        grad_b = sum(2 * (self.w * x + self.b - y) for x, y in points) / n
        self.w -= rate * grad_w
        self.b -= rate * grad_b
        return sum((self.w * x + self.b - y) ** 2 for x, y in points) / n
