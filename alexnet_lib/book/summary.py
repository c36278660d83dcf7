"""Per-layer output shapes, parameter counts and FLOPs of a network, as data and as a table."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from ..errors import UsageError
from .columns import display_width, left, right


@dataclass(frozen=True)
class LayerInfo:
    name: str
    kind: str
    output_shape: tuple[int, ...]
    params: int
    flops: int


@dataclass(frozen=True)
class Summary:
    """What `layer_summary` returns: one `LayerInfo` per layer, in the order they run."""

    input_shape: tuple[int, ...]
    layers: list[LayerInfo]

    @property
    def total_params(self) -> int:
        return sum(layer.params for layer in self.layers)

    @property
    def total_flops(self) -> int:
        """FLOPs of one forward pass for one image (a multiply-add counts as 2)."""
        return sum(layer.flops for layer in self.layers)

    def table(self, lang: str = "en") -> str:
        """The layers as a text table, with its headings in English ("en") or Chinese ("zh")."""
        words = _WORDS[lang]
        kind_width = max(12, *(len(layer.kind) + 2 for layer in self.layers))
        header = (left(words["layer"], 10) + left(words["type"], kind_width)
                  + left(words["shape"], 20) + right(words["params"], 13) + right("FLOPs", 16))
        rule = "-" * display_width(header)
        rows = [header, rule,
                left(words["input"], 10 + kind_width) + left(_shape(self.input_shape), 20)]
        for layer in self.layers:
            rows.append(
                f"{layer.name:<10}{layer.kind:<{kind_width}}{_shape(layer.output_shape):<20}"
                f"{layer.params:>13,}{layer.flops:>16,}"
            )
        rows.append(rule)
        rows.append(left(words["total"], 30 + kind_width)
                    + f"{self.total_params:>13,}{self.total_flops:>16,}")
        return "\n".join(rows)

    def __str__(self) -> str:
        return self.table()


_WORDS = {
    "en": {"layer": "layer", "type": "type", "shape": "output shape", "params": "params",
           "input": "input", "total": "total"},
    "zh": {"layer": "层", "type": "类型", "shape": "输出形状", "params": "参数",
           "input": "输入", "total": "合计"},
}


def _shape(shape: tuple[int, ...]) -> str:
    return " x ".join(str(s) for s in shape)


def _layer_flops(module: nn.Module, output: torch.Tensor) -> int:
    out_elements = output[0].numel()  # per image
    if isinstance(module, nn.Conv2d):
        k_h, k_w = module.kernel_size
        return 2 * out_elements * (module.in_channels // module.groups) * k_h * k_w
    if isinstance(module, nn.Linear):
        return 2 * module.in_features * module.out_features
    if isinstance(module, (nn.MaxPool2d, nn.AvgPool2d)):
        k = module.kernel_size
        k_h, k_w = (k, k) if isinstance(k, int) else k
        return out_elements * k_h * k_w
    return 0  # activations and dropout: elementwise, negligible next to the layers above


def layer_summary(net: nn.Module, input_shape: tuple[int, ...]) -> Summary:
    """Run one zero image of `input_shape` ([C, H, W] or [1, C, H, W]) through `net`.

    Convolution and linear FLOPs count a multiply-add as 2; pooling counts one operation per
    window element; activations and dropout count 0. Parameters are counted per layer.
    """
    shape = tuple(int(s) for s in input_shape)
    if len(shape) == 3:
        shape = (1, *shape)
    if len(shape) != 4 or shape[0] != 1:
        raise UsageError(f"input_shape must be [C, H, W] or [1, C, H, W], got {list(input_shape)}")
    leaves = [(n, m) for n, m in net.named_modules() if n and not list(m.children())]
    records: list[LayerInfo] = []

    def hook_for(name: str):
        def hook(module: nn.Module, _inputs, output: torch.Tensor) -> None:
            records.append(
                LayerInfo(
                    name=name,
                    kind=type(module).__name__,
                    output_shape=tuple(output.shape[1:]),
                    params=sum(p.numel() for p in module.parameters()),
                    flops=_layer_flops(module, output),
                )
            )

        return hook

    handles = [module.register_forward_hook(hook_for(name)) for name, module in leaves]
    was_training = net.training
    device = next(net.parameters()).device
    try:
        net.eval()
        with torch.no_grad():
            net(torch.zeros(shape, device=device))
    finally:
        net.train(was_training)
        for handle in handles:
            handle.remove()
    return Summary(input_shape=shape[1:], layers=records)
