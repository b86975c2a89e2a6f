#!/bin/sh
# Runs the training script outside a container, for comparison.
exec python3 "$(dirname "$0")/train.py" "$@"
