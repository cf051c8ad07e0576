"""Quality under a time budget: default settings, k = 32, random init, a few seeds.

Target (issue 2): test MSE <= 0.0105 after --seconds 3 on this 2-core machine. Also runs PCA at the same k
and, for scale, the classic tutorial recipe and the default settings with the old decoder-bias start
("uniform", before issue 11) under the same budget, in the same process.
Usage: MNIST_DIR=../shared/data/mnist python bench/quality.py [--seconds 3] [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import statistics

import torch
from common import mnist_or_exit, parse_with_threads

from model.config import TrainConfig
from model.pca import fit_pca
from model.train import Trainer


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--latent-dim", type=int, default=32)
    args = parse_with_threads(parser)
    mnist = mnist_or_exit()
    results = {}
    recipes = (
        ("default", TrainConfig()),
        ("default_uniform_bias_init", TrainConfig(bias_init="uniform")),
        ("classic", TrainConfig.classic()),
    )
    for label, base in recipes:
        runs = []
        for seed in range(args.seeds):
            config = base.with_(latent_dim=args.latent_dim, seed=seed, max_seconds=args.seconds)
            snap = Trainer(config, mnist.train.images, mnist.test.images).run()
            runs.append(
                {"test_mse": snap.final_test_mse, "epochs": round(snap.step / (snap.total_steps / config.epochs), 2)}
            )
        mses = [r["test_mse"] for r in runs]
        results[label] = {"median_test_mse": statistics.median(mses), "worst_test_mse": max(mses), "runs": runs}
    pca = fit_pca(mnist.train.images)
    results["pca_test_mse"] = pca.mse(mnist.test.images, args.latent_dim)
    results["target"] = 0.0105
    results["default_meets_target"] = results["default"]["worst_test_mse"] <= 0.0105
    results["threads"] = torch.get_num_threads()
    results["seconds"] = args.seconds
    print(json.dumps(results))


if __name__ == "__main__":
    main()
