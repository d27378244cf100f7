"""``deltarule train``: train a network (a first version: built-in datasets only)."""

from __future__ import annotations

import argparse
import sys

import numpy as np

from . import add_common


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a network",
        description="Train a multi-layer perceptron. Without DATA, trains on the built-in "
        "handwritten digits (scikit-learn's bundled copy).",
        epilog="Example: deltarule train --dataset digits --hidden 64 --epochs 30",
    )
    parser.add_argument("--dataset", default="digits", help="built-in dataset (default: digits)")
    parser.add_argument("--data-dir", default=None, help="folder with the Fashion-MNIST IDX files")
    parser.add_argument("--hidden", default="64", help="hidden layer sizes, e.g. 64,32")
    parser.add_argument("--activation", default="relu")
    parser.add_argument("--optimizer", default="adam")
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--learning-rate", type=float, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")
    add_common(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .. import Network
    from ..datasets import load_dataset

    data = load_dataset(args.dataset, seed=args.seed, data_dir=args.data_dir)
    hidden = [int(h) for h in str(args.hidden).split(",") if h.strip()]
    n_classes = int(max(data.y_train.max(), data.y_test.max())) + 1
    net = Network(
        [data.X_train.shape[1], *hidden, n_classes],
        activation=args.activation,
        output_activation="softmax",
        seed=args.seed,
    )
    y = np.eye(n_classes, dtype=np.float32)[data.y_train]
    print(
        f"training {net.layer_sizes} on {data.name}: {len(data.X_train)} training and "
        f"{len(data.X_test)} test samples",
        file=sys.stderr,
    )
    net.fit(
        data.X_train,
        y,
        epochs=args.epochs,
        batch_size=args.batch_size,
        optimizer=args.optimizer,
        learning_rate=args.learning_rate,
        seed=args.seed,
        validation_split=0.1,
        early_stopping=True,
        patience=10,
        verbose=0 if args.quiet else 1,
    )
    accuracy = float((net.predict(data.X_test).argmax(axis=1) == data.y_test).mean())
    print(f"test accuracy: {accuracy:.4f}")
    return 0
