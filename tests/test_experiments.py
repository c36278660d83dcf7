"""Experiments: every variant from every seed, recorded after each run, read back by chapters."""

import json
from dataclasses import asdict, replace

import pytest
import torch

from alexnet_lib import cli
from alexnet_lib.book.columns import display_width
from alexnet_lib.experiments import (
    Experiment,
    Recipe,
    compare_columns,
    mean_sd,
    recorded_experiment,
    run_experiment,
)
from alexnet_lib.experiments import runner as experiments
from alexnet_lib.experiments.race import FourLayerCNN, Race, race_run, time_to_target

TINY = Recipe(epochs=2, image_size=67, batch_size=8, train_examples=16, validation=8,
              eval_train_acc=True)


@pytest.fixture
def tiny_experiment(monkeypatch):
    experiment = Experiment("tiny", "a test", {
        "p=0": replace(TINY, dropout=0.0),
        "p=0.5": TINY,
    }, seeds=(0, 1))
    monkeypatch.setitem(experiments.EXPERIMENTS, "tiny", experiment)
    return experiment


def count_trainings(monkeypatch) -> list:
    calls = []
    real = experiments.train_recipe

    def counting(recipe, seed, **kwargs):
        calls.append((recipe.dropout, seed))
        return real(recipe, seed, **kwargs)

    monkeypatch.setattr(experiments, "train_recipe", counting)
    return calls


def test_every_variant_and_seed_is_recorded_and_resumed(tiny_root, tmp_path, monkeypatch,
                                                         tiny_experiment):
    root, _ = tiny_root
    calls = count_trainings(monkeypatch)
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu",
                            variants=["p=0"])
    assert calls == [(0.0, 0), (0.0, 1)]
    record = json.loads((tmp_path / "experiment_tiny.json").read_text())
    assert [(r["variant"], r["seed"]) for r in record["runs"]] == [("p=0", 0), ("p=0", 1)]
    assert record["definition"] == tiny_experiment.definition()
    assert {"device_name", "threads", "torch", "started", "finished"} <= set(record)
    settings = record["runs"][0]["history"]["settings"]
    assert settings["precision"] == "fp32" and settings["train_examples"] == 16
    assert settings["val_examples"] == 8 and settings["test_examples"] == 0
    assert all(0 <= run["test_acc"] <= 1 for run in record["runs"])  # all 32 test images
    # A second call trains only what is missing.
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    assert calls[2:] == [(0.5, 0), (0.5, 1)]
    assert result.complete(["p=0", "p=0.5"], [0, 1])
    values = result.final("p=0.5", "test_acc")
    assert result.summary("p=0.5") == pytest.approx(mean_sd(values))
    gap = result.final("p=0", "gap")
    assert gap == pytest.approx([t - s for t, s in zip(result.final("p=0", "train_acc_eval"),
                                                       result.final("p=0"), strict=True)])
    epochs, means, sds = result.curve("p=0", "val_acc")
    assert epochs == [1, 2] and len(means) == len(sds) == 2
    table = result.table(names={"p=0": "no dropout"})
    assert "no dropout" in table and "±" in table and "test acc" in table
    zh = result.table(names={"p=0": "不用丢弃法"}, lang="zh").splitlines()
    assert "测试准确率" in zh[0]
    widths = {display_width(line) for line in zh}
    assert len(widths) == 1, zh  # the columns line up, Chinese characters taking two
    assert "seeds [0, 1]" in result.settings_line()


def test_the_same_seed_gives_the_same_run(tiny_root, tiny_experiment):
    root, _ = tiny_root
    first = experiments.train_recipe(TINY, 3, device="cpu", root=root)
    second = experiments.train_recipe(TINY, 3, device="cpu", root=root)
    assert first["history"]["epochs"][-1]["train_loss"] == \
        second["history"]["epochs"][-1]["train_loss"]
    assert first["train_acc_eval"] == second["train_acc_eval"]


def test_a_changed_definition_starts_a_new_record(tiny_root, tmp_path, monkeypatch,
                                                   tiny_experiment):
    root, _ = tiny_root
    run_experiment("tiny", out=tmp_path, root=root, device="cpu", variants=["p=0"], seeds=[0])
    changed = Experiment("tiny", "a test", {"p=0": TINY}, seeds=(0, 1))
    monkeypatch.setitem(experiments.EXPERIMENTS, "tiny", changed)
    calls = count_trainings(monkeypatch)
    run_experiment("tiny", out=tmp_path, root=root, device="cpu", seeds=[0])
    assert calls == [(0.5, 0)]  # the old run no longer counts


def test_a_variant_added_later_keeps_the_runs_recorded_before(tiny_root, tmp_path, monkeypatch,
                                                                tiny_experiment):
    root, _ = tiny_root
    run_experiment("tiny", out=tmp_path, root=root, device="cpu", variants=["p=0"])
    grown = replace(tiny_experiment, variants={**tiny_experiment.variants,
                                               "p=0.75": replace(TINY, dropout=0.75)})
    monkeypatch.setitem(experiments.EXPERIMENTS, "tiny", grown)
    calls = count_trainings(monkeypatch)
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    assert calls == [(0.5, 0), (0.5, 1), (0.75, 0), (0.75, 1)]  # p=0 was kept
    assert result.complete(["p=0", "p=0.5", "p=0.75"], [0, 1])
    saved = json.loads((tmp_path / "experiment_tiny.json").read_text())
    assert saved["definition"] == grown.definition() and len(saved["runs"]) == 6
    assert not tiny_experiment.matches(saved["definition"])  # more variants than it knows


def test_chapters_read_the_shipped_record_instead_of_training(tiny_root, tmp_path, monkeypatch,
                                                              tiny_experiment, capsys):
    root, _ = tiny_root
    run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    monkeypatch.setattr(experiments, "RESULTS", tmp_path)
    calls = count_trainings(monkeypatch)
    result = run_experiment("tiny", root=root, device="cpu")
    assert calls == [] and result.complete(["p=0", "p=0.5"], [0, 1])
    assert "rerun=True" in capsys.readouterr().out


def test_recorded_experiment_reads_the_shipped_record_or_says_none(tiny_root, tmp_path,
                                                                   monkeypatch, tiny_experiment):
    monkeypatch.setattr(experiments, "RESULTS", tmp_path)
    assert recorded_experiment("tiny") is None  # not run yet
    root, _ = tiny_root
    trained = run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    result = recorded_experiment("tiny")
    assert result.complete(["p=0", "p=0.5"], [0, 1]) and result.file == trained.file
    losses = [run["test_loss"] for run in result.record["runs"] if run["variant"] == "p=0"]
    assert result.final("p=0", "test_loss") == losses and all(x > 0 for x in losses)
    assert "test loss" in result.table(metrics=["test_acc", "test_loss"])
    monkeypatch.setitem(experiments.EXPERIMENTS, "tiny",
                        replace(tiny_experiment, variants={"p=0": replace(TINY, epochs=3)}))
    assert recorded_experiment("tiny") is None  # a record of another definition
    with pytest.raises(ValueError, match="Unknown experiment"):
        recorded_experiment("nonexistent")


def test_quick_mode_trains_on_tiny_data_and_writes_nothing(tiny_root, tmp_path, monkeypatch,
                                                           tiny_experiment, capsys):
    root, _ = tiny_root
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    result = run_experiment("tiny", root=root, device="cpu")
    assert result.complete(["p=0", "p=0.5"], [0, 1])
    assert "[quick mode]" in capsys.readouterr().out
    assert not list(tmp_path.rglob("*.json"))


def test_quick_mode_trains_two_seeds_and_says_so(tiny_root, tmp_path, monkeypatch,
                                                  tiny_experiment, capsys):
    monkeypatch.setitem(experiments.EXPERIMENTS, "tiny",
                        replace(tiny_experiment, seeds=(0, 1, 2)))
    monkeypatch.setenv("ALEXNET_QUICK", "1")
    monkeypatch.chdir(tmp_path)
    calls = count_trainings(monkeypatch)
    root, _ = tiny_root
    result = run_experiment("tiny", root=root, device="cpu", variants=["p=0"])
    assert sorted(seed for _, seed in calls) == [0, 1] and result.seeds("p=0") == [0, 1]
    assert "training seeds [0, 1] of [0, 1, 2]" in capsys.readouterr().out


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="Unknown experiment"):
        run_experiment("nonsense")
    with pytest.raises(ValueError, match="no variant"):
        run_experiment("dropout", variants=["p=0.9"])


def test_the_dropout_experiment_repeats_a_pilot_regime_on_seeds_the_pilots_did_not_use():
    pilots, final = experiments.EXPERIMENTS["dropout-pilots"], experiments.EXPERIMENTS["dropout"]
    regimes = {label: recipe for label, recipe in pilots.variants.items()
               if replace(recipe, dropout=0.0) == final.variants["p=0"]}
    assert sorted(recipe.dropout for recipe in regimes.values()) == [0.0, 0.5]
    assert final.variants["p=0.5"] == replace(final.variants["p=0"], dropout=0.5)
    assert not set(pilots.seeds) & set(final.seeds)
    assert len(final.seeds) >= 3


def test_the_book_experiments_change_one_setting_at_a_time():
    for name in ("dropout", "dropout-67px", "augmentation", "ablation"):
        experiment = experiments.EXPERIMENTS[name]
        recipes = list(experiment.variants.values())
        base = recipes[0] if name == "ablation" else None
        for recipe in recipes[1:]:
            reference = base or recipes[0]
            changed = {k for k in reference.__dict__ if getattr(recipe, k) != getattr(
                reference, k)}
            assert changed, (name, recipe)
            if name != "ablation" or recipe.optimizer == "adam":
                assert len(changed) == 1, (name, changed)
        assert all(r.precision == "fp32" for r in recipes)
        assert len(experiment.seeds) >= 3


def test_cli_experiment_writes_the_record(tiny_root, tmp_path, tiny_experiment, monkeypatch,
                                          capsys):
    root, _ = tiny_root
    code = cli.main(["experiment", "tiny", "--seeds", "0", "--variants", "p=0", "--device",
                     "cpu", "--data", str(root), "--out", str(tmp_path)])
    assert code == 0
    assert (tmp_path / "experiment_tiny.json").is_file()
    assert "p=0" in capsys.readouterr().out


def test_race_records_a_falling_error_curve(tiny_root):
    root, _ = tiny_root
    race = Race(epochs=2, batch_size=8, log_every=4)
    run = race_run("relu", 0.05, 0, race, device="cpu", root=root)
    points = run["points"]
    assert [p[0] for p in points] == [0.5, 1.0, 1.5, 2.0]  # 8 batches an epoch
    assert all(b[1] > a[1] for a, b in zip(points, points[1:], strict=False))  # seconds grow
    assert all(0 <= p[2] <= 1 for p in points)


def test_time_to_target_takes_the_first_point_at_or_below_it():
    points = [[0.1, 1.0, 0.6], [0.2, 2.0, 0.25], [0.3, 3.0, 0.1]]
    assert time_to_target(points, 0.25) == (0.2, 2.0)
    assert time_to_target(points, 0.05) is None


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_four_layer_cnn(activation):
    import torch

    net = FourLayerCNN(activation)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert sum(isinstance(m, (torch.nn.Conv2d, torch.nn.Linear)) for m in net.modules()) == 4


def test_compare_columns_marks_what_has_not_run(tiny_root, tmp_path, tiny_experiment):
    root, _ = tiny_root
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu", variants=["p=0"])
    table = compare_columns({"67 px": result, "224 px": None}, ["p=0", "p=0.5"],
                            names={"p=0": "plain"}, baseline="p=0")
    lines = table.splitlines()
    assert "67 px" in lines[0] and "224 px" in lines[0] and "vs baseline" in lines[0]
    mean, sd = result.summary("p=0")
    assert lines[1].startswith("plain") and f"{mean:.3f} ± {sd:.3f}" in lines[1]
    assert lines[1].count("not run yet") == 1  # the 224 px column
    assert lines[2].count("not run yet") == 2  # p=0.5 ran in neither
    assert "尚未运行" in compare_columns({"67": None}, ["p=0"], lang="zh")


def test_experiment_curves_plot(tiny_root, tmp_path, tiny_experiment):
    import matplotlib

    matplotlib.use("Agg")
    from alexnet_lib import plot_experiment_curves

    root, _ = tiny_root
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    ax = plot_experiment_curves(result, ["p=0", "p=0.5"], names={"p=0": "plain"}, lang="zh")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["plain", "p=0.5"]
    assert ax.get_ylabel() == "验证准确率" and len(ax.collections) == 2  # one band each


def test_changes_and_paired_differences(tiny_root, tmp_path, tiny_experiment):
    assert tiny_experiment.changes("p=0.5", "p=0") == {"dropout": 0.5}
    assert tiny_experiment.changes("p=0") == {}
    root, _ = tiny_root
    result = run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    a, b = result.final("p=0.5"), result.final("p=0")
    assert result.differences("p=0.5", "p=0") == pytest.approx([x - y for x, y in zip(a, b,
                                                                                     strict=True)])


def test_race_table_picks_the_fastest_rate_per_target():
    from alexnet_lib.experiments.race import RaceResult

    race = Race(activations=("relu", "sigmoid"), learning_rates=(0.1, 0.3), seeds=(0, 1),
                targets=(0.25, 0.10))

    def run(activation, lr, seed, points):
        return {"activation": activation, "lr": lr, "seed": seed, "points": points}

    fast, slow = [[0.1, 1, 0.3], [0.2, 2, 0.2], [1.0, 9, 0.08]], [[0.5, 5, 0.24], [2, 20, 0.2]]
    never = [[1, 10, 0.9], [2, 20, 0.9]]
    record = {"runs": [run("relu", 0.1, s, slow) for s in (0, 1)]
              + [run("relu", 0.3, s, fast) for s in (0, 1)]
              + [run("sigmoid", lr, s, never) for lr in (0.1, 0.3) for s in (0, 1)],
              "device_name": "CPU (test)", "threads": 2, "torch": "x", "started": "2026-01-01"}
    result = RaceResult(race, record)
    assert result.best_lr("relu") == 0.3 and result.best_lr("relu", 0.10) == 0.3
    assert result.reach("relu", 0.3) == [(0.2, 2), (0.2, 2)]
    assert result.best_lr("sigmoid") is None
    table = result.table().splitlines()
    assert len(table) == 1 + 2 * 2
    assert "0.20 ±" in table[1] and "not reached in 2 epochs" in table[3]
    assert "没有达到" in result.table(lang="zh")
    assert "seeds [0, 1]" in result.settings_line() and "种子" in result.settings_line("zh")


def test_the_speedup_pairs_seeds_at_each_activations_best_rate():
    from alexnet_lib.experiments.race import RaceResult

    race = Race(activations=("relu", "tanh"), learning_rates=(0.1, 0.3), seeds=(0, 1),
                targets=(0.25,), inits=("default", "paper"))

    def run(activation, lr, seed, epochs_to_target, init="default"):
        points = [[epochs_to_target / 2, 1, 0.5], [epochs_to_target, 2, 0.2]]
        return {"activation": activation, "lr": lr, "seed": seed, "init": init,
                "steps_per_epoch": 100, "points": points}

    record = {"runs": [run("relu", 0.1, 0, 0.2), run("relu", 0.1, 1, 0.4),
                       run("relu", 0.3, 0, 0.5), run("relu", 0.3, 1, 0.5),
                       run("tanh", 0.1, 0, 1.0), run("tanh", 0.1, 1, 0.8),
                       run("tanh", 0.3, 0, 0.6), run("tanh", 0.3, 1, 0.6),
                       run("relu", 0.1, 0, 0.2, "paper"), run("relu", 0.1, 1, 0.2, "paper")]}
    result = RaceResult(race, record)
    # ReLU is fastest at 0.1 (20 and 40 steps), tanh at 0.3 (60 steps from both seeds)
    assert result.speedup() == pytest.approx([3.0, 1.5])
    assert result.speedup("relu", "tanh") == pytest.approx([1 / 3, 1 / 1.5])
    assert result.speedup(init="paper") is None  # no tanh run from the paper's start
    curves = result.seed_curves("tanh", 0.1)
    assert curves == [([50, 100], [0.5, 0.2]), ([40, 80], [0.5, 0.2])]


def test_run_race_reads_a_record_written_to_disk_without_training(tmp_path, monkeypatch):
    from alexnet_lib.experiments import race as activation_race

    record = {"definition": asdict(activation_race.RACE), "runs": [], "device": "cpu",
              "device_name": "CPU (test)", "threads": 1, "torch": "x", "started": "2026-01-01"}
    (tmp_path / "experiment_activations.json").write_text(json.dumps(record))
    monkeypatch.setattr(activation_race, "RESULTS", tmp_path)
    monkeypatch.delenv("ALEXNET_QUICK", raising=False)
    monkeypatch.setattr(activation_race, "race_run", lambda *args: pytest.fail("trained"))
    assert activation_race.run_race().record["runs"] == []


def test_a_race_run_stops_once_it_reaches_the_last_target(tiny_root):
    root, _ = tiny_root
    race = Race(epochs=2, batch_size=8, log_every=4, targets=(1.0, 1.0))  # reached at once
    run = race_run("relu", 0.05, 0, race, device="cpu", root=root)
    assert [p[0] for p in run["points"]] == [0.5]


def test_a_stopped_run_is_not_recorded(tiny_root, tmp_path, monkeypatch, tiny_experiment):
    root, _ = tiny_root
    real_train = experiments.train
    calls = []

    def stopped_second_time(*args, **kwargs):
        history = real_train(*args, **kwargs)
        calls.append(1)
        history.interrupted = len(calls) == 2  # as after Ctrl-C or SIGTERM
        return history

    monkeypatch.setattr(experiments, "train", stopped_second_time)
    with pytest.raises(KeyboardInterrupt):
        run_experiment("tiny", out=tmp_path, root=root, device="cpu")
    record = json.loads((tmp_path / "experiment_tiny.json").read_text())
    assert [(r["variant"], r["seed"]) for r in record["runs"]] == [("p=0", 0)]


def test_the_papers_start_draws_every_weight_from_a_narrow_normal():
    torch.manual_seed(0)
    net = FourLayerCNN("tanh", init="paper")
    layers = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, torch.nn.Linear))]
    weights = torch.cat([m.weight.flatten() for m in layers])
    assert weights.std().item() == pytest.approx(0.01, rel=0.05)
    assert all(not m.bias.any() for m in layers)
    default = FourLayerCNN("tanh")  # Xavier: the first layer's weights are far wider
    assert default.conv[0].weight.std() > 5 * net.conv[0].weight.std()
    with pytest.raises(ValueError, match="init"):
        FourLayerCNN("relu", init="zeros")


def test_the_init_race_records_each_start_and_counts_steps(tiny_root, tmp_path, monkeypatch):
    from alexnet_lib.experiments import race as activation_race

    root, _ = tiny_root
    tiny = Race(activations=("relu",), learning_rates=(0.05,), seeds=(0,), epochs=1,
                batch_size=8, log_every=4, targets=(0.0,), inits=("default", "paper"),
                name="race-init")
    monkeypatch.setitem(activation_race.RACES, "race-init", tiny)
    result = activation_race.run_race(name="race-init", out=tmp_path, device="cpu", root=root)
    runs = result.record["runs"]
    assert [r.get("init", "default") for r in runs] == ["default", "paper"]
    assert all(r["steps_per_epoch"] == 8 for r in runs)  # 64 images in batches of 8
    assert result.steps("relu", 0.05, 1.0, "paper") == [4]  # the first point: 4 batches
    assert result.steps("relu", 0.05, 0.0, "paper") in ([None], [8])
    table = result.table().splitlines()
    assert "start" in table[0] and "steps" in table[0] and len(table) == 1 + 2
    saved = json.loads((tmp_path / "experiment_race-init.json").read_text())
    assert saved["experiment"] == "race-init" and len(saved["runs"]) == 2
    with pytest.raises(ValueError, match="Unknown race"):
        activation_race.run_race(name="nonexistent")
