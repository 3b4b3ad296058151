"""The network of section 4: trunk shapes, heads, G, the pairwise baseline, BatchNorm folding."""
from __future__ import annotations

import pytest

torch = pytest.importorskip("torch")

from viewfinder.training.model import (Backbone, BaselinePairwise, Generator, ModelConfig,  # noqa: E402
                                       Ranker, build_model, count_flops, fuse_batchnorm)


@pytest.mark.parametrize("name, shape", [("sqnet", (512, 14, 14)), ("sqnet4", (256, 28, 28)),
                                         ("sqnet6", (128, 56, 56))])
def test_trunks_match_the_paper_at_227px(name, shape):
    with torch.no_grad():
        out = Backbone(name).eval()(torch.zeros(1, 3, 227, 227))
    assert tuple(out.shape[1:]) == shape


@pytest.mark.parametrize("head, n_attr", [("A", 1), ("B", 1), ("C", 5)])
def test_heads_give_a_score_and_attributes(head, n_attr):
    model = Ranker(ModelConfig("sqnet6", head, 5, 64, 64)).eval()
    score, attrs = model(torch.randn(3, 3, 64, 64))
    assert score.shape == (3,) and attrs.shape == (3, n_attr)
    if head == "C":  # ReLU after the attribute conv: attributes are never negative
        assert (attrs >= 0).all()
        assert torch.allclose(score, model.score_from_attributes(attrs))


def test_shipped_size_model_is_under_one_megabyte_like_the_paper():
    model = Ranker(ModelConfig("sqnet4", "C", 5, 128, 128))
    fused = fuse_batchnorm(model)
    n_bytes = 4 * sum(p.numel() for p in fused.parameters())
    assert 400_000 < n_bytes < 1_000_000  # the paper: 0.47 MB
    assert count_flops(ModelConfig("sqnet4", "C", 5, 227, 227)) > count_flops(ModelConfig("sqnet6", "C", 5, 227, 227))


def test_batchnorm_folding_keeps_the_outputs():
    model = Ranker(ModelConfig("sqnet6", "C", 4, 48, 48))
    model.train()
    with torch.no_grad():
        for _ in range(3):  # non-trivial running statistics
            model(torch.randn(8, 3, 48, 48) * 2 + 0.3)
    model.eval()
    x = torch.randn(4, 3, 48, 48)
    fused = fuse_batchnorm(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    with torch.no_grad():
        (s1, a1), (s2, a2) = model(x), fused(x)
    assert torch.allclose(s1, s2, atol=1e-4) and torch.allclose(a1, a2, atol=1e-4)


def test_generator_adds_a_residual():
    g = Generator(5)
    x = torch.rand(7, 5)
    x2, e = g(x)
    assert x2.shape == e.shape == (7, 5) and torch.allclose(x2, x + e)


def test_pairwise_baseline_is_antisymmetric_and_ranks_a_burst_in_n_squared_comparisons():
    model = BaselinePairwise(ModelConfig("sqnet6", "baseline", 5, 32, 32)).eval()
    a, b = torch.randn(2, 3, 32, 32), torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        assert torch.allclose(model(a, b), -model(b, a), atol=1e-6)
        wins = model.rank_burst(torch.randn(6, 3, 32, 32))
    assert wins.shape == (6,) and float(wins.sum()) <= 15  # 6*5/2 comparisons, ties give no win
    assert isinstance(build_model(ModelConfig("sqnet6", "baseline")), BaselinePairwise)


def test_bad_configs_are_refused():
    with pytest.raises(ValueError, match="backbone"):
        ModelConfig("resnet", "C")
    with pytest.raises(ValueError, match="head"):
        ModelConfig("sqnet4", "D")
    with pytest.raises(ValueError, match="attribute"):
        ModelConfig("sqnet4", "C", 0)


def test_attributes_cannot_all_die():
    """The collapse trap: with every attribute's ReLU closed the score is a constant and no
    gradient flows. keep_attributes_alive (run after each step) reopens them."""
    torch.manual_seed(0)
    model = Ranker(ModelConfig("sqnet6", "C", 4, 48, 48)).train()
    with torch.no_grad():
        model.attr.bn.bias.fill_(-50.0)  # as if the equal-pair term had pushed them all off
    x = torch.randn(8, 3, 48, 48)
    assert (model.attributes(x) == 0).all()
    model.keep_attributes_alive()
    pre = model.attr.bn(model.attr.conv(model.backbone(x)))  # (8, C', h, w)
    open_share = (pre > 0).float().mean((0, 2, 3))
    assert (open_share > 0.3).all()
    assert (model.attributes(x) > 0).any(0).all()
