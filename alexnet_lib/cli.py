"""Command line: `python -m alexnet_lib train ...` trains AlexNet on Fashion-MNIST."""

from __future__ import annotations

import argparse
import math
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import torch
import torch.distributed as dist

from .data import load_fashion_mnist, split_validation
from .devices import resolve_device, set_seed
from .errors import UsageError
from .memory import check_fits, training_bytes
from .models import AlexNet
from .training import messages
from .training.checkpoint import check_checkpoint, load_checkpoint
from .training.compiling import COMPILE_MODES
from .training.distributed import (
    is_main_process,
    start_process_group,
    torchrun_world_size,
    world_size,
)
from .training.files import (
    check_output_folder,
    remove_stale_temporaries,
    run_lock,
    write_atomically,
)
from .training.loop import TrainingError, train
from .training.optim import LR_SCHEDULES, OPTIMIZERS
from .training.precision import PRECISIONS
from .training.stopping import signals_held


def _start_data_parallel(args: argparse.Namespace) -> bool:
    """Under torchrun (WORLD_SIZE > 1): join the process group, one device per process."""
    if torchrun_world_size() <= 1:
        return False
    args.device = str(start_process_group(args.device))
    if args.seed is None:
        args.seed = 0  # every process must build the same model and draw the same order
    return True


def _train_command(args: argparse.Namespace) -> int:
    distributed = _start_data_parallel(args)
    try:
        return _train(args)
    finally:
        if distributed:
            dist.destroy_process_group()


def _train(args: argparse.Namespace) -> int:
    _check_numbers(args, positive=("epochs", "batch_size", "lr", "limit"),
                   non_negative=("weight_decay", "validation"))
    _check_seed(args.seed, "--seed")
    if args.lr_schedule == "plateau" and not args.validation:
        raise UsageError("--lr-schedule plateau divides the learning rate by 10 when the "
                         "validation accuracy stops rising: add --validation N (e.g. "
                         "--validation 5000).")
    device = _check_device_and_precision(args)
    out = check_output_folder(args.out)
    checkpoint = out / "checkpoint.pt"
    with _removed_if_refused(out), run_lock(checkpoint) if is_main_process() else nullcontext():
        _check_before_loading(args, out, checkpoint, device)
        return _train_into(args, out, checkpoint)


RUN_FILES = ("history.json", "weights.pt")
"""What a run leaves in --out besides its checkpoint."""


@contextmanager
def _removed_if_refused(out: Path) -> Iterator[None]:
    """Folders created for this command are removed again if the command is refused."""
    missing = [folder for folder in (out, *out.parents) if not folder.exists()]
    try:
        yield
    except UsageError:
        for folder in missing:  # the deepest first
            if folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
        raise


def _check_device_and_precision(args: argparse.Namespace) -> torch.device:
    device = resolve_device(args.device)
    if args.precision == "fp16" and device.type != "cuda":
        raise UsageError(f"--precision fp16 needs a CUDA GPU, and --device is {device}: use "
                         "--precision bf16 or fp32.")
    return device


def _check_seed(seed: int | None, option: str) -> None:
    if seed is not None and not 0 <= seed < 2**63:
        raise UsageError(f"{option} must be a whole number from 0 to 2**63 - 1, got {seed}.")


def _check_before_loading(args: argparse.Namespace, out: Path, checkpoint: Path,
                          device: torch.device) -> None:
    """Refuse what would fail later, before any data is loaded."""
    if args.resume and args.overwrite:
        raise UsageError("--resume continues the run in --out, --overwrite replaces it: pass "
                         "one of them.")
    if checkpoint.exists() and not (args.resume or args.overwrite):
        raise UsageError(f"{checkpoint.parent} already holds a run ({checkpoint.name}): add "
                         "--resume to continue it, or --overwrite to start afresh and replace "
                         "it.")
    finished = [name for name in RUN_FILES if (out / name).exists()]
    if finished and not checkpoint.exists() and not args.overwrite:
        raise UsageError(f"{out} already holds a finished run ({', '.join(finished)}) with no "
                         f"{checkpoint.name} to resume: add --overwrite to start afresh and "
                         "replace it, or choose another --out.")
    for name in RUN_FILES:
        remove_stale_temporaries(out / name)
    with torch.device("meta"):  # the shapes alone, nothing allocated
        meta_net = AlexNet(image_size=args.image_size)
    if args.resume and checkpoint.exists():
        check_checkpoint(load_checkpoint(checkpoint, mmap=True), checkpoint, meta_net)
    size, batch = args.image_size, math.ceil(args.batch_size / world_size())
    check_fits(training_bytes(meta_net, batch), device,
               f"Training AlexNet on {size} x {size} images in batches of {batch}",
               "use a smaller --image-size or --batch-size")


def _check_numbers(args: argparse.Namespace, positive=(), non_negative=()) -> None:
    for names, ok, must in ((positive, lambda v: v > 0, "positive"),
                            (non_negative, lambda v: v >= 0, "0 or more")):
        for name in names:
            value = getattr(args, name)
            if value is not None and not (ok(value) and math.isfinite(value)):  # nan, inf
                finite = " and finite" if isinstance(value, float) else ""
                raise UsageError(f"--{name.replace('_', '-')} must be {must}{finite}, got "
                                 f"{value}.")


def _train_into(args: argparse.Namespace, out: Path, checkpoint: Path) -> int:
    if args.seed is not None:
        set_seed(args.seed)
    net = AlexNet(image_size=args.image_size)
    train_iter, test_iter = load_fashion_mnist(
        args.batch_size, resize=args.image_size, root=args.data, limit=args.limit,
        device=args.device,
    )
    val_iter = None
    if args.validation:
        train_iter, val_iter = split_validation(train_iter, args.validation)
    history = train(
        net, train_iter, test_iter, args.epochs, lr=args.lr, optimizer=args.optimizer,
        device=args.device, weight_decay=args.weight_decay, lr_schedule=args.lr_schedule,
        val_iter=val_iter, precision=args.precision, compile=args.compile,
        checkpoint=checkpoint, resume=args.resume, overwrite=args.overwrite,
        progress=not args.no_progress,
    )
    stopped_while_writing = []
    if is_main_process():
        with signals_held() as stopped_while_writing:  # both new, or both as they were
            write_atomically(out / "weights.pt", lambda f: torch.save(net.state_dict(), f))
            history.save(out / "history.json")
        print(f"Wrote {out / 'history.json'} and {out / 'weights.pt'} (state_dict).")
    if history.interrupted:  # the shell's convention: 128 + the signal's number
        return 128 + signal.Signals[history.stopped_by or "SIGINT"].value
    return 128 + stopped_while_writing[0] if stopped_while_writing else 0


def _experiment_command(args: argparse.Namespace) -> int:
    from .experiments import run_experiment
    from .experiments.race import RACES, run_race

    if args.seeds is not None:
        for seed in args.seeds:
            _check_seed(seed, "--seeds")
    check_output_folder(args.out)
    if args.name in RACES:
        result = run_race(rerun=True, out=args.out, device=args.device, root=args.data,
                          name=args.name)
        print(result.table())
        return 0
    result = run_experiment(args.name, seeds=args.seeds, rerun=True, out=args.out,
                            device=args.device, root=args.data, variants=args.variants)
    print(result.table())
    print(result.settings_line())
    return 0


def _bench_command(args: argparse.Namespace) -> int:
    from .experiments.bench import format_table, run_benchmark
    from .experiments.records import save_results

    _check_numbers(args, positive=("batch_size", "steps", "limit"),
                   non_negative=("full_run_epochs", "precision_check_epochs"))
    AlexNet(image_size=args.image_size)  # refuses a size AlexNet cannot take
    check_output_folder(args.out)
    device = _check_device_and_precision(args)
    full_run_epochs = args.full_run_epochs
    if full_run_epochs is None:
        full_run_epochs = 10 if device.type == "cuda" else 0
    precision_check_epochs = args.precision_check_epochs
    if precision_check_epochs is None:
        precision_check_epochs = 2 if device.type == "cuda" else 0
    results = run_benchmark(device, image_size=args.image_size, batch_size=args.batch_size,
                            steps=args.steps, full_run_epochs=full_run_epochs, root=args.data,
                            compile_modes=args.compile_modes,
                            precision_check_epochs=precision_check_epochs,
                            precision=args.precision, limit=args.limit)
    results["command"] = "python -m alexnet_lib bench " + " ".join(args.argv)
    print(format_table(results))
    print(f"Wrote {save_results(results, args.out)}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m alexnet_lib",
        description="AlexNet, hands-on: train AlexNet on Fashion-MNIST from the command line.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train AlexNet on Fashion-MNIST; writes history.json and weights.pt into --out",
        description="Train AlexNet on Fashion-MNIST. Under `torchrun --nproc_per_node=N -m "
        "alexnet_lib train ...` it trains data-parallel (NCCL on GPUs, gloo on CPUs); "
        "--batch-size is then the global batch, split over the processes. Writes "
        "OUT/history.json (per-epoch metrics and settings), OUT/weights.pt (the "
        "state_dict) and OUT/checkpoint.pt (updated every epoch and when stopped; --resume "
        "continues from it). Ctrl-C, SIGTERM and SIGHUP finish the batch, save and exit "
        "with 130, 143 and 129. A NaN loss or running out of memory exits with 1, keeping "
        "the last checkpoint; bad options exit with 2 before any data is loaded.",
    )
    train.add_argument("--epochs", type=int, default=10, help="number of epochs (default 10)")
    train.add_argument("--batch-size", type=int, default=128, help="images per batch (128)")
    train.add_argument("--lr", type=float, default=0.001, help="learning rate (0.001)")
    train.add_argument("--optimizer", default="adam", choices=OPTIMIZERS,
                       help="adam, or sgd with momentum 0.9 as in 2012 (adam)")
    train.add_argument("--weight-decay", type=float, default=0.0,
                       help="L2 weight decay; the 2012 paper used 5e-4 (0)")
    train.add_argument("--lr-schedule", default="constant", choices=LR_SCHEDULES,
                       help="constant; warmup-linear: warm up over 10%% of the steps, then decay "
                       "linearly; plateau: divide by 10 when the validation accuracy stops "
                       "rising, needs --validation (constant)")
    train.add_argument("--validation", type=int, default=0, metavar="N",
                       help="hold out N training images to measure after every epoch (0)")
    train.add_argument("--image-size", type=int, default=224,
                       help="side the 28x28 images are resized to (224; at least 67)")
    train.add_argument("--device", default=None,
                       help="cpu, cuda, cuda:N or mps (default: the best available)")
    train.add_argument("--precision", default="auto", choices=PRECISIONS,
                       help="number format (auto: bf16 on GPUs of compute capability 8.0 or "
                       "later and on CPUs where it measures faster, fp16 on older GPUs, else "
                       "fp32)")
    train.add_argument("--compile", default="off", choices=COMPILE_MODES,
                       help="torch.compile mode; reduce-overhead adds CUDA graphs (off)")
    train.add_argument("--limit", type=int, default=None,
                       help="use only the first N images of each split")
    train.add_argument("--data", default=None,
                       help="data folder holding FashionMNIST/raw (default: $ALEXNET_DATA, "
                       "else a per-user cache that downloads)")
    train.add_argument("--seed", type=int, default=None, help="random seed for a repeatable run")
    train.add_argument("--out", default="runs/alexnet", help="output folder (runs/alexnet)")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    train.add_argument("--overwrite", action="store_true",
                       help="start afresh, replacing the run already in OUT (without --resume "
                       "or --overwrite, a folder holding a checkpoint is refused)")
    train.add_argument("--no-progress", action="store_true", help="no progress bar")
    train.set_defaults(func=_train_command)

    bench = commands.add_parser(
        "bench",
        help="measure the naive version's pipeline and loop against the library's",
        description="Benchmark, in one process on one device: input-pipeline images/s (the "
        "naive version's PIL Resize + ToTensor DataLoader vs the library's loader), "
        "training images/s (the naive version's loop at batch 1 and at --batch-size vs "
        "alexnet_lib.train, eager and compiled), achieved FLOP/s against a measured matmul "
        "peak, and on a GPU a full run and a bf16-vs-fp32 accuracy check. Prints a table "
        "and writes a JSON file into --out.",
    )
    bench.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps")
    bench.add_argument("--image-size", type=int, default=224, help="image side (224)")
    bench.add_argument("--batch-size", type=int, default=128, help="batch size (128)")
    bench.add_argument("--steps", type=int, default=None,
                       help="timed batches per measurement (default: 50 on a GPU, 3 on a CPU)")
    bench.add_argument("--full-run-epochs", type=int, default=None,
                       help="epochs of the full timed run (default: 10 on a GPU, none on a CPU)")
    bench.add_argument("--compile-modes", nargs="*", default=None,
                       choices=[mode for mode in COMPILE_MODES if mode != "off"],
                       help="torch.compile modes to time besides eager (default: default and "
                       "reduce-overhead on a GPU, none on a CPU)")
    bench.add_argument("--precision-check-epochs", type=int, default=None,
                       help="train this long in fp32 and in the low-precision format auto "
                       "picks (bf16, or fp16 on GPUs before compute capability 8.0) from two "
                       "seeds each and compare test accuracy (default: 2 on a GPU, none on a "
                       "CPU)")
    bench.add_argument("--precision", default="auto", choices=PRECISIONS,
                       help="number format of the library's runs (auto: bf16 where the "
                       "hardware computes it natively, else fp32 or fp16)")
    bench.add_argument("--limit", type=int, default=None,
                       help="use only the first N images of each split (a dry run; the "
                       "record says so); at least 2 x --steps x --batch-size + 1, which the "
                       "input-pipeline rows read")
    bench.add_argument("--data", default=None, help="data folder (default: $ALEXNET_DATA)")
    bench.add_argument("--out", default="runs/bench",
                       help="folder for the JSON file (runs/bench)")
    bench.set_defaults(func=_bench_command)

    from .experiments import EXPERIMENTS

    names = ["activations", "race-init", *EXPERIMENTS]
    experiment = commands.add_parser(
        "experiment",
        help="train one of the book's experiments from several seeds and record the results",
        description="Train every variant of one of the book's experiments from every seed, on "
        "the full test set, writing OUT/experiment_NAME.json after every run; a second call "
        "with the same OUT trains only what is missing. Experiments: activations (chapter 3, "
        "ReLU vs tanh vs sigmoid in a four-layer CNN), race-init (the same race from the book's "
        "start and from the paper's N(0, 0.01) weights), dropout (chapter 4), augmentation "
        "(chapter 5), ablation (chapter 7, which of AlexNet's ideas matter). The records the "
        "book reads are in alexnet_lib/results/.",
    )
    experiment.add_argument("name", choices=names, help="which experiment")
    experiment.add_argument("--seeds", type=int, nargs="+", default=None,
                            help="seeds to train (default: the experiment's, 0 1 2)")
    experiment.add_argument("--variants", nargs="+", default=None,
                            help="only these variants (default: all)")
    experiment.add_argument("--device", default=None, help="cpu, cuda, cuda:N or mps")
    experiment.add_argument("--data", default=None, help="data folder (default: $ALEXNET_DATA)")
    experiment.add_argument("--out", default="runs/experiments",
                            help="folder for the record (runs/experiments)")
    experiment.set_defaults(func=_experiment_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(argv)
    args.argv = argv[1:]
    command_line = messages.COMMAND_LINE.set(True)  # messages name options, not arguments
    try:
        if getattr(args, "out", None) == "":
            raise UsageError("--out is empty: name a folder (\".\" for this one).")
        return args.func(args)
    except (UsageError, FileNotFoundError) as err:  # a mistake: no traceback
        print(f"error: {err}", file=sys.stderr)
        return 2
    except TrainingError as err:  # a NaN loss, out of memory: the checkpoint stays as it was
        checkpoint = Path(args.out) / "checkpoint.pt"
        kept = f" {checkpoint} keeps the last saved state." if checkpoint.is_file() else ""
        print(f"error: {err}{kept}", file=sys.stderr)
        return 1
    except OSError as err:  # a full disk, a failing drive ...
        where = f": {err.filename}" if err.filename else ""
        print(f"error: {err.strerror or err}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as err:  # outside the training loop, which handles its own
        print(INTERRUPTED[args.command].format(out=args.out), file=sys.stderr)
        name = err.args[0] if err.args and isinstance(err.args[0], str) else "SIGINT"
        return 128 + signal.Signals[name if name in signal.Signals.__members__ else "SIGINT"]
    finally:
        messages.COMMAND_LINE.reset(command_line)


INTERRUPTED = {
    "train": "Interrupted before training began or after its files were written; nothing "
             "more to save.",
    "experiment": "Interrupted: the runs that finished are recorded in {out}; run the same "
                  "command again to train the others.",
    "bench": "Interrupted: the benchmark was not finished, so nothing was recorded.",
}
"""What each command says when stopped outside the training loop."""
