"""The book's experiments (runner.py), the paper's Figure 1 in miniature (race.py), the
benchmark (bench.py), and the records they write and the chapters read (records.py)."""

from .records import RESULTS
from .runner import (
    AUGMENTATIONS,
    EXPERIMENTS,
    Experiment,
    ExperimentResult,
    Recipe,
    compare_columns,
    mean_sd,
    recorded_experiment,
    run_experiment,
    train_recipe,
)

__all__ = ["AUGMENTATIONS", "EXPERIMENTS", "RESULTS", "Experiment", "ExperimentResult", "Recipe",
           "compare_columns", "mean_sd", "recorded_experiment", "run_experiment",
           "train_recipe"]
