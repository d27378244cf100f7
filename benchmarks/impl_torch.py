"""PyTorch (CPU, eager) on every workload, written the way its tutorials write it.

``torch.set_num_threads`` is set to the machine's cores (or ``--threads``); models start
from the same float32 weights as deltarule; ``torch.optim.Adam(..., fused=True)`` (the fused
kernel, which PyTorch has on CPU too), ``SGD`` and ``LBFGS``. Each epoch draws a permutation
and indexes each mini-batch with its slice of it (``X[order[s:s + bs]]``), as a
``DataLoader(shuffle=True)`` over tensors does, without copying the whole data set first.
"""

from __future__ import annotations

import numpy as np
import workloads as wl
from measure import Unavailable, rss, threads, timed

try:
    import torch
    from torch import nn
    from torch.nn import functional as F  # noqa: N812
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise Unavailable(f"PyTorch is not installed ({exc})") from exc

torch.set_num_threads(threads())


def describe() -> dict:
    return {"version": torch.__version__, "threads": torch.get_num_threads()}


def _model(sizes: tuple[int, ...]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for i, (weight, bias) in enumerate(wl.glorot_weights(sizes)):
        linear = nn.Linear(weight.shape[1], weight.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _epochs(model, optimizer, loss_fn, X, y, batch_size: int, epochs: int) -> float:  # noqa: ANN001
    generator = torch.Generator().manual_seed(wl.SEED)
    n = X.shape[0]
    loss = torch.zeros(())
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for start in range(0, n, batch_size):
            index = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = loss_fn(model(X[index]), y[index])
            loss.backward()
            optimizer.step()
    return float(loss.detach())


def _mnist_run(batch_size: int, n_samples: int, data: str):  # noqa: ANN202
    d = wl.mnist_like(n_samples, data)
    X, y = torch.from_numpy(d.X), torch.from_numpy(d.labels.astype(np.int64))
    model = _model(wl.MNIST_SIZES)
    optimizer = torch.optim.Adam(model.parameters(), lr=wl.ADAM_LEARNING_RATE, fused=True)
    return lambda: _epochs(model, optimizer, F.cross_entropy, X, y, batch_size, 1), X.shape[0]


def mlp_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    """(a): one epoch of Adam, softmax cross-entropy on logits."""
    work, n = _mnist_run(batch_size, n_samples, data)
    seconds, loss = timed(work)
    return {"seconds": seconds, "samples": n, "loss": loss}


def memory_epoch(batch_size: int, n_samples: int, data: str) -> dict:
    work, _ = _mnist_run(batch_size, n_samples, data)
    return rss.growth(work)


def tutorial_online(n: int) -> dict:
    """(b): ``n`` single-example SGD steps on the tutorial network (biases frozen)."""
    weights, biases, x, target = wl.tutorial()
    model = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 2), nn.Sigmoid())
    with torch.no_grad():
        for linear, w, b in zip((model[0], model[2]), weights, biases):
            linear.weight.copy_(torch.tensor(w).reshape(2, 2))
            linear.bias.fill_(b)
            linear.bias.requires_grad_(False)
    X, t = torch.tensor([x], dtype=torch.float32), torch.tensor([target], dtype=torch.float32)
    optimizer = torch.optim.SGD([model[0].weight, model[2].weight], lr=wl.TUTORIAL_LEARNING_RATE)

    def work() -> float:
        for _ in range(n):
            optimizer.zero_grad()
            error = 0.5 * ((model(X) - t) ** 2).sum()
            error.backward()
            optimizer.step()
        return float(error)

    seconds, error = timed(work)
    return {"seconds": seconds, "updates": n, "error": error}


def tabular(optimizer: str, epochs: int, batch_size: int) -> dict:
    """(c): breast_cancer with Adam (mini-batches) or L-BFGS (full batch, strong Wolfe)."""
    d = wl.breast_cancer()
    X, y = torch.from_numpy(d.X), torch.from_numpy(d.labels.astype(np.float32)).reshape(-1, 1)
    model = _model(wl.TABULAR_SIZES)
    loss_fn = F.binary_cross_entropy_with_logits
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=wl.ADAM_LEARNING_RATE, fused=True)
        seconds, _ = timed(lambda: _epochs(model, opt, loss_fn, X, y, batch_size, epochs))
    else:
        opt = torch.optim.LBFGS(
            model.parameters(), lr=1, max_iter=epochs, history_size=10,
            tolerance_grad=1e-9, tolerance_change=1e-9, line_search_fn="strong_wolfe",
        )  # fmt: skip

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()
            return loss

        seconds, _ = timed(lambda: opt.step(closure))
    with torch.inference_mode():
        scores = model(torch.from_numpy(d.X_test))[:, 0].numpy()
    return {"seconds": seconds, "accuracy": float(((scores > 0) == d.labels_test).mean())}


def predict(batch_size: int, n: int, data: str) -> dict:
    """(d): ``n`` calls of softmax(model(x)) from and to NumPy, in inference mode."""
    X = wl.mnist_like(max(batch_size, 1024), data).X[:batch_size]
    model = _model(wl.MNIST_SIZES)

    def work() -> None:
        with torch.inference_mode():
            for _ in range(n):
                torch.softmax(model(torch.from_numpy(X)), dim=1).numpy()

    seconds, _ = timed(work)
    return {"seconds": seconds, "samples": n * batch_size}


TASKS = {
    "mlp_epoch": mlp_epoch,
    "tutorial_online": tutorial_online,
    "tabular": tabular,
    "predict": predict,
    "memory_epoch": memory_epoch,
}
