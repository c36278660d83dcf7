import json

from alexnet_lib import cli


def test_bench_command_measures_every_row_and_writes_json(tiny_root, tmp_path, capsys):
    root, _ = tiny_root
    code = cli.main(["bench", "--device", "cpu", "--image-size", "67", "--batch-size", "8",
                     "--steps", "1", "--data", str(root), "--out", str(tmp_path)])
    assert code == 0
    [path] = tmp_path.glob("*_cpu_67px.json")
    results = json.loads(path.read_text())
    for key in ("pipeline_source", "pipeline_library", "train_source_batch1",
                "train_source_batch8", "train_library", "peak_fp32_flops", "peak_bf16_flops",
                "achieved_flops", "train_flops_per_image"):
        assert results[key] > 0, key
    assert results["train_library_precision"] == "fp32"
    assert results["command"].endswith("--out " + str(tmp_path))
    table = capsys.readouterr().out
    assert "source loop, batch 1" in table and "of the measured fp32 matmul peak" in table
