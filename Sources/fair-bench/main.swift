print("usage: fair-bench scheduling|startup")
