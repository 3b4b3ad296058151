"""Training of the burst ranker (PyTorch; the only package that imports torch).

Flow: data.py (shared data -> .npz cache at input size) -> train.py (pairs -> model + G, with
losses.py's eq. 2-4) -> export.py (checkpoint -> models/ranker.onnx) -> evaluate.py (the model
card's table). cli.py adds `python -m viewfinder train|export` without importing torch.
"""
