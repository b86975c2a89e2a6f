"""fair from Python and Jupyter: build, train, serve and predict with the `fair` command's engine.

    import fair
    run = fair.train()                      # the current notebook, in the cluster
    run = fair.train(fit, args=(data,))     # a function; run.result is what it returned
    endpoint = fair.serve(run)
    endpoint.predict(numpy_array)
    fair.log_metric("loss", 0.31, step=3)   # in the training code

`%load_ext fair` adds `%fair …` and `%%fair_train`.
"""
from __future__ import annotations

from . import models
from .errors import CommandFailed, FairError, FairNotFound, NotebookNotFound, TrainingFailed
from .images import Image, Layer, build
from .magics import load_ipython_extension, unload_ipython_extension
from .metrics import log_metric
from .models import Model
from .serving import Endpoint, serve
from .training import TrainRun, train

__version__ = "0.1.0"

__all__ = [
    "CommandFailed", "Endpoint", "FairError", "FairNotFound", "Image", "Layer", "Model", "NotebookNotFound", "TrainRun",
    "TrainingFailed", "build", "load_ipython_extension", "log_metric", "models", "serve", "train", "unload_ipython_extension",
]
