from alexnet_lib import AlexNet, LeNet, layer_summary


def test_alexnet_summary_shapes_params_and_flops():
    net = AlexNet()
    summary = layer_summary(net, (1, 224, 224))
    assert summary.total_params == sum(p.numel() for p in net.parameters())
    by_name = {layer.name: layer for layer in summary.layers}
    assert by_name["conv.0"].output_shape == (96, 54, 54)
    assert by_name["conv.12"].output_shape == (256, 5, 5)
    assert by_name["fc.6"].output_shape == (10,)
    # conv1: 2 * (96*54*54 outputs) * (1*11*11 inputs per output)
    assert by_name["conv.0"].flops == 2 * 96 * 54 * 54 * 121
    assert by_name["fc.0"].flops == 2 * 6400 * 4096
    fc_params = sum(layer.params for layer in summary.layers if layer.name.startswith("fc"))
    assert 0.90 < fc_params / summary.total_params < 0.95


def test_summary_table_and_modes():
    net = LeNet().train()
    summary = layer_summary(net, (1, 1, 28, 28))
    assert net.training  # mode restored
    table = str(summary)
    assert "conv.0" in table and "6 x 28 x 28" in table
    assert f"{summary.total_params:,}" in table.splitlines()[-1]


def test_summary_table_speaks_chinese_and_fits_long_layer_names():
    summary = layer_summary(AlexNet(lrn=True, image_size=67), (1, 67, 67))
    en, zh = summary.table().splitlines(), summary.table("zh").splitlines()
    assert zh[0].startswith("层") and "输出形状" in zh[0] and zh[-1].startswith("合计")
    assert en[3:-2] == zh[3:-2]  # the layers and numbers are the same
    lrn = next(line for line in en if "LocalResponseNorm" in line)
    assert "LocalResponseNorm " in lrn  # the type column is wide enough for it
    assert len({len(line) for line in en if not line.startswith("-")}) <= 2
