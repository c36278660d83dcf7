"""pretrained_alexnet: ImageNet weights where they can be had, one line and random weights
where they cannot, and the socket timeout put back either way."""

import socket
import urllib.error

import pytest
import torch
import torchvision

from alexnet_lib import pretrained
from alexnet_lib.pretrained import pretrained_alexnet

REAL = torchvision.models.alexnet


@pytest.fixture
def empty_cache(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))


@pytest.mark.parametrize("error", [urllib.error.URLError("no route"), TimeoutError("slow"),
                                   RuntimeError("invalid hash value"), EOFError()])
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_without_weights_it_says_so_in_one_line_and_goes_on(capsys, monkeypatch, empty_cache,
                                                             error, lang):
    def offline(weights=None, progress=True):
        if weights is not None:
            raise error
        return REAL(weights=None)

    monkeypatch.setattr(pretrained.torchvision.models, "alexnet", offline)
    before = socket.getdefaulttimeout()
    net, loaded = pretrained_alexnet(lang=lang, timeout=0.5)
    assert loaded is False and net(torch.zeros(1, 3, 224, 224)).shape == (1, 1000)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and type(error).__name__ in lines[1]  # "downloading", then why not
    assert ("random weights" in lines[1]) if lang == "en" else ("随机" in lines[1])
    assert socket.getdefaulttimeout() == before


def test_with_weights_it_returns_them_and_their_accuracy(capsys, monkeypatch, empty_cache):
    seen = {}

    def cached(weights=None, progress=True):
        seen["weights"], seen["timeout"] = weights, socket.getdefaulttimeout()
        print('Downloading: "url" to /somewhere/on/this/machine')  # torch.hub's own line
        return REAL(weights=None)

    monkeypatch.setattr(pretrained.torchvision.models, "alexnet", cached)
    net, loaded = pretrained_alexnet(timeout=7)
    out = capsys.readouterr().out
    assert loaded is True and seen == {"weights": torchvision.models.AlexNet_Weights.IMAGENET1K_V1,
                                       "timeout": 7}
    top1 = torchvision.models.AlexNet_Weights.IMAGENET1K_V1.meta["_metrics"]["ImageNet-1K"]["acc@1"]
    assert f"{top1}% top-1" in out and "/somewhere" not in out


def test_an_unknown_language_is_refused():
    with pytest.raises(ValueError, match="lang"):
        pretrained_alexnet(lang="fr")
