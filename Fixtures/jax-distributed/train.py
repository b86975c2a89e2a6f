"""Each rank contributes its rank + 1; every rank gathers all contributions across processes."""
import json
import os

import jax

jax.config.update("jax_cpu_collectives_implementation", "gloo")  # collectives between CPU processes
rank, world = int(os.environ.get("RANK", "0")), int(os.environ.get("WORLD_SIZE", "1"))
jax.distributed.initialize(coordinator_address=f"{os.environ.get('MASTER_ADDR', '127.0.0.1')}:{os.environ.get('MASTER_PORT', '29500')}",
                           num_processes=world, process_id=rank)

import jax.numpy as jnp  # noqa: E402  (after initialize, as jax asks)
from jax.experimental import multihost_utils  # noqa: E402

print(f"process {jax.process_index()} of {jax.process_count()}, {jax.device_count()} devices in all", flush=True)
gathered = multihost_utils.process_allgather(jnp.array([float(rank + 1)]))
total = float(gathered.sum())
print(f"gathered {gathered.ravel().tolist()} sum {total}", flush=True)
if rank == 0 and os.environ.get("FAIR_MODEL_DIR"):
    with open(os.path.join(os.environ["FAIR_MODEL_DIR"], "sum.json"), "w") as file:
        json.dump({"sum": total, "processes": jax.process_count()}, file)
jax.distributed.shutdown()
