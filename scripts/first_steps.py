"""Record the first training losses of a fresh AlexNet at 224 px, for three output-layer inits.

    python scripts/first_steps.py --out alexnet_lib/results

A uniform guess over 10 classes has loss ln 10 = 2.30. The library starts AlexNet's output
layer at zero; this measures what the first ten Adam steps (lr 0.001) do with that, with the
paper's N(0, 0.01) and with Kaiming's scale there instead, from three seeds each. Chapter 6
quotes the record.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
from pathlib import Path

import torch
from torch import nn

from alexnet_lib import AlexNet, load_fashion_mnist, set_seed, train_step
from alexnet_lib.bench import _cpu_name

INITS = {
    "zero": lambda w: nn.init.zeros_(w),
    "normal(0, 0.01)": lambda w: nn.init.normal_(w, std=0.01),
    "kaiming": lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"),
}


def first_losses(init: str, seed: int, batches: int, batch_size: int) -> list[float]:
    set_seed(seed)
    train_iter, _ = load_fashion_mnist(batch_size, resize=224, limit=batch_size * batches,
                                       device="cpu")
    net = AlexNet()
    INITS[init](net.fc[-1].weight)
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001)
    return [round(train_step(net, X, y, optimizer)[1].item(), 4) for X, y in train_iter]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs", help="folder for the JSON record")
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    record = {"kind": "first_steps", "date": dt.date.today().isoformat(),
              "device": f"CPU ({_cpu_name()})", "threads": torch.get_num_threads(),
              "torch": str(torch.__version__), "image_size": 224, "batch_size": args.batch_size,
              "optimizer": "Adam", "lr": 0.001, "precision": "fp32", "uniform_guess": math.log(10),
              "losses": {}}
    for init in INITS:
        record["losses"][init] = {str(seed): first_losses(init, seed, args.batches,
                                                          args.batch_size)
                                  for seed in (0, 1, 2)}
        print(init, record["losses"][init], flush=True)
    path = Path(args.out) / f"{record['date']}_cpu_first_steps_224px.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    print(f"Wrote {path}")


if __name__ == "__main__":
    main()
