"""The paper's ranking network (section 4): SqueezeNet-1.1-style trunks, heads A/B/C, the
pairwise Baseline head of Chang et al., and the attribute generator G used only in training.

torch only here. Built from a plain `ModelConfig` so a checkpoint can rebuild the model without
the training script. Every conv is followed by BatchNorm + ReLU except the final scoring layer;
BatchNorm is folded into the convs for export (`fuse_batchnorm`), so the exported graph is the
paper's conv + ReLU network.
"""
from __future__ import annotations

import copy
from dataclasses import asdict, dataclass

import torch
from torch import nn

# (squeeze, expand) per Fire block of SqueezeNet 1.1, and where its max-pools sit
_FIRES = [(16, 64), (16, 64), (32, 128), (32, 128), (48, 192), (48, 192), (64, 256), (64, 256)]
_POOL_BEFORE = {0, 2, 4}  # a max-pool before fire2, fire4 and fire6 (fire index 0 = fire2)
BACKBONES = {"sqnet": 8, "sqnet4": 4, "sqnet6": 2}  # how many Fire blocks each keeps
HEADS = ("A", "B", "C", "baseline")


@dataclass(frozen=True)
class ModelConfig:
    backbone: str = "sqnet4"
    head: str = "C"
    attributes: int = 5  # C', head C only
    height: int = 128
    width: int = 128

    def __post_init__(self):
        if self.backbone not in BACKBONES:
            raise ValueError(f"backbone {self.backbone!r} is not one of {', '.join(BACKBONES)}")
        if self.head not in HEADS:
            raise ValueError(f"head {self.head!r} is not one of {', '.join(HEADS)}")
        if self.head == "C" and self.attributes < 1:
            raise ValueError("head C needs at least one attribute (C' >= 1)")

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def attribute_names(self) -> tuple[str, ...]:
        if self.head == "C":
            return tuple(f"latent_{i + 1}" for i in range(self.attributes))
        return ("goodness",)


class ConvBNReLU(nn.Module):
    """conv -> BatchNorm -> ReLU; after `fuse()`, conv (with bias) -> ReLU."""

    def __init__(self, cin: int, cout: int, k: int, stride: int = 1, padding: int = 0):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, stride, padding, bias=False)
        self.bn: nn.Module = nn.BatchNorm2d(cout)

    def forward(self, x):
        return torch.relu(self.bn(self.conv(x)))

    def fuse(self) -> None:
        if isinstance(self.bn, nn.BatchNorm2d):
            self.conv = torch.nn.utils.fusion.fuse_conv_bn_eval(self.conv, self.bn)
            self.bn = nn.Identity()


class Fire(nn.Module):
    def __init__(self, cin: int, squeeze: int, expand: int):
        super().__init__()
        self.squeeze = ConvBNReLU(cin, squeeze, 1)
        self.e1 = ConvBNReLU(squeeze, expand, 1)
        self.e3 = ConvBNReLU(squeeze, expand, 3, padding=1)

    def forward(self, x):
        s = self.squeeze(x)
        return torch.cat([self.e1(s), self.e3(s)], 1)


class Backbone(nn.Module):
    """conv1 3x3/2 64ch, max-pool, then the kept Fire blocks (2*expand channels out)."""

    def __init__(self, name: str):
        super().__init__()
        layers: list[nn.Module] = [ConvBNReLU(3, 64, 3, stride=2)]
        cin = 64
        for i in range(BACKBONES[name]):
            if i in _POOL_BEFORE:
                layers.append(nn.MaxPool2d(3, 2, ceil_mode=True))
            squeeze, expand = _FIRES[i]
            layers.append(Fire(cin, squeeze, expand))
            cin = 2 * expand
        self.layers = nn.Sequential(*layers)
        self.channels = cin

    def forward(self, x):
        return self.layers(x)


class Ranker(nn.Module):
    """f(x): one frame -> (score (N,), attributes (N, C')). Heads A, B, C of Fig. 2."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.head == "baseline":
            raise ValueError("the baseline head is pairwise: build BaselinePairwise instead")
        self.cfg = cfg
        self.backbone = Backbone(cfg.backbone)
        c = self.backbone.channels
        if cfg.head == "A":  # 1x1 conv to one map, then global average pool
            self.score_conv = nn.Conv2d(c, 1, 1)
        elif cfg.head == "B":  # global average pool, then 1x1 conv (a linear layer)
            self.score_fc = nn.Linear(c, 1)
        else:  # C: 1x1 conv to C' attribute maps + ReLU, pool, linear score
            self.attr = ConvBNReLU(c, cfg.attributes, 1)
            # Start every attribute alive: a positive BN shift keeps the ReLU open for most
            # positions, so eq. 2's equal-pair term cannot zero them all in the first steps.
            nn.init.constant_(self.attr.bn.bias, 0.5)
            self.score_fc = nn.Linear(cfg.attributes, 1)

    def keep_attributes_alive(self) -> None:
        """Head C: keep the attribute layer's BatchNorm shift >= 0 (called after every ranker
        step). In training each attribute's pre-activation is then a standardised map plus a
        non-negative shift, so its ReLU is open for about half of every batch: eq. 2's equal-pair
        term can never switch all attributes off and collapse the ranker to a constant score."""
        if self.cfg.head == "C":
            with torch.no_grad():
                self.attr.bn.bias.clamp_(min=0.0)

    def attributes(self, x: torch.Tensor) -> torch.Tensor:
        """Head C's latent attribute vector x (N, C'); the score itself for heads A and B."""
        feat = self.backbone(x)  # (N, C, h, w)
        if self.cfg.head == "C":
            return self.attr(feat).mean((2, 3))  # (N, C')
        if self.cfg.head == "A":
            return self.score_conv(feat).mean((2, 3))  # (N, 1)
        return self.score_fc(feat.mean((2, 3)))  # (N, 1)

    def score_from_attributes(self, a: torch.Tensor) -> torch.Tensor:
        """The final linear scoring layer (N, C') -> (N,); the identity for heads A and B."""
        if self.cfg.head == "C":
            return self.score_fc(a)[:, 0]
        return a[:, 0]

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        a = self.attributes(x)
        return self.score_from_attributes(a), a


class BaselinePairwise(nn.Module):
    """Chang et al.'s pairwise head (Fig. 2 "Baseline"): the difference of two images' pooled
    features through stacked FC layers -> how much better `a` is than `b`. Ranking a burst of n
    frames needs n*(n-1)/2 comparisons, which is why the paper replaces it."""

    def __init__(self, cfg: ModelConfig, hidden: int = 128):
        super().__init__()
        self.cfg = cfg
        self.backbone = Backbone(cfg.backbone)
        c = self.backbone.channels
        self.fc = nn.Sequential(nn.Linear(c, hidden), nn.ReLU(), nn.Linear(hidden, hidden // 2),
                                nn.ReLU(), nn.Linear(hidden // 2, 1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone(x).mean((2, 3))  # (N, C)

    def compare(self, fa: torch.Tensor, fb: torch.Tensor) -> torch.Tensor:
        """(N, C), (N, C) pooled features -> (N,) preference of a over b (antisymmetric)."""
        return (self.fc(fa - fb) - self.fc(fb - fa))[:, 0] / 2

    def forward(self, xa: torch.Tensor, xb: torch.Tensor) -> torch.Tensor:
        return self.compare(self.features(xa), self.features(xb))

    @torch.no_grad()
    def rank_burst(self, x: torch.Tensor) -> torch.Tensor:
        """(n, 3, H, W) burst -> (n,) number of pairwise wins: every pair goes through the FC
        stack, O(n^2) comparisons."""
        f = self.features(x)
        n = f.shape[0]
        i, j = torch.triu_indices(n, n, 1)
        d = self.compare(f[i], f[j])  # (n*(n-1)/2,)
        wins = torch.zeros(n)
        wins.index_add_(0, i, (d > 0).float())
        wins.index_add_(0, j, (d < 0).float())
        return wins


class Generator(nn.Module):
    """G (section 4.1): MLP on [x, Gaussian noise] -> sparse residual e; x' = x + e."""

    def __init__(self, attributes: int, noise: int | None = None, hidden: int = 32):
        super().__init__()
        self.noise = noise or attributes
        self.mlp = nn.Sequential(nn.Linear(attributes + self.noise, hidden), nn.ReLU(),
                                 nn.Linear(hidden, attributes))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.randn(x.shape[0], self.noise, device=x.device)  # (N, noise)
        e = self.mlp(torch.cat([x, z], 1))  # (N, C')
        return x + e, e


def build_model(cfg: ModelConfig) -> nn.Module:
    return BaselinePairwise(cfg) if cfg.head == "baseline" else Ranker(cfg)


def fuse_batchnorm(model: nn.Module) -> nn.Module:
    """An eval-mode copy with every BatchNorm folded into its conv (same outputs, fewer ops)."""
    fused = copy.deepcopy(model).eval()
    for m in fused.modules():
        if isinstance(m, ConvBNReLU):
            m.fuse()
    return fused


def count_flops(cfg: ModelConfig) -> int:
    """Multiply-adds x 2 of one forward pass of a single-frame ranker (convs and linears)."""
    model = build_model(cfg).eval()
    flops = 0

    def conv_hook(m, inp, out):
        nonlocal flops
        k = m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
        flops += 2 * k * out.numel()

    def lin_hook(m, inp, out):
        nonlocal flops
        flops += 2 * m.in_features * out.numel()

    hooks = [m.register_forward_hook(conv_hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    hooks += [m.register_forward_hook(lin_hook) for m in model.modules() if isinstance(m, nn.Linear)]
    with torch.no_grad():
        x = torch.zeros(1, 3, cfg.height, cfg.width)
        if cfg.head == "baseline":
            model(x, x)
        else:
            model(x)
    for h in hooks:
        h.remove()
    return flops
