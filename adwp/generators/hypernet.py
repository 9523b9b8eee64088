"""HyperNetwork: per-layer embeddings in, every weight of the target network out.

For each weight slot the hypernetwork holds ``num_bases`` kernel bases of the slot's largest shape
``[C_out_max, C_in_max, k_max, k_max]``. From the slot's context embedding a head predicts mixing
coefficients over the bases, input-channel gains, a spatial gain map and the BatchNorm affine
parameters. The mixed kernel is cut to the layer's exact shape (first ``C_out`` and ``C_in``
channels, centre ``k x k`` window) and normalised per output channel to He scale, so a predicted
network is usable before any training and its activations stay in range for every architecture.
The stem and the classifier are emitted the same way from the global embedding.
:class:`HyperNetConfig` can switch each per-architecture output off (gains, BatchNorm affines,
classifier), down to a network that computes the SPOS supernet's function. Sharing the BatchNorm
affines and the classifier ranks better on ``mnist5k`` (see ``docs/decisions.md``).

The slots, their largest shapes and the cut each parameter of a network takes come from the
space (:meth:`adwp.spaces.GeneratorSpace.weight_slots` and ``weight_plan``).

Shapes: encoding ``[B, T, F]`` -> list of B weight dicts, keyed like ``space.build(arch)``'s
parameters.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from typing import Any

import torch
from torch import nn

from adwp.errors import AdwpError
from adwp.registry import GENERATORS
from adwp.spaces.protocol import Cut
from encoders import ContextEncoder

__all__ = ["HyperNetConfig", "HyperNetwork"]

# Settings added after the first checkpoint format, with the behaviour of the model before each
# existed. Defaults may change (see docs/decisions.md); these values may not.
# A new setting goes here too, with the value that keeps the model as it was without it.
_BEFORE_IT_EXISTED: dict[str, Any] = {
    "predict_norm": True,
    "renormalize": True,
    "head_init_std": 0.01,
    "predict_classifier": True,
    "predict_gains": True,
}


@dataclass(frozen=True)
class HyperNetConfig:
    """Capacity of the hypernetwork.

    Attributes:
        embed_dim: Width of the slot embeddings.
        context_layers: Transformer layers of the context model.
        heads: Attention heads.
        hidden: Width of the shared head trunk.
        num_bases: Kernel bases per slot; more bases let weights vary more across architectures.
        predict_norm: Predict each layer's BatchNorm scale and shift from its embedding (True),
            or share one max-shape pair per slot across architectures, sliced like the SPOS
            supernet's (False, the default: a predicted affine lets the head fit a
            per-architecture correction that is noise in the ranking; see
            ``docs/decisions.md``).
        renormalize: Scale every emitted kernel to He scale per output channel (True), or use
            the cut of the mixed kernel as it is, as the supernet does with its slices (False).
            BatchNorm follows every convolution, so this changes the optimisation, not what the
            network can compute.
        predict_classifier: Emit the classifier's weights and bias from the global embedding
            (True), or share one max-shape classifier across architectures, sliced by input
            channels like the supernet's (False, the default, for the reason above).
        predict_gains: Predict per-architecture input-channel gains and a spatial gain map that
            multiply each mixed kernel (True), or use the mixed kernel as it is (False). With
            ``num_bases=1``, ``predict_norm=False`` and ``predict_classifier=False`` as well, the
            emitted network computes the same function as the SPOS supernet's slice.
        head_init_std: Standard deviation of the initial head weights. At 0 every architecture
            starts from the same (shared) weights and differences grow only where gradients
            put them; above 0 each architecture starts with its own random modulation.
    """

    embed_dim: int = 64
    context_layers: int = 2
    heads: int = 4
    hidden: int = 128
    num_bases: int = 8
    predict_norm: bool = False
    renormalize: bool = True
    head_init_std: float = 0.01
    predict_classifier: bool = False
    predict_gains: bool = True

    def __post_init__(self) -> None:
        for name in ("embed_dim", "heads", "hidden", "num_bases"):
            if getattr(self, name) < 1:
                raise AdwpError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.context_layers < 0:
            raise AdwpError(f"context_layers must be 0 or more, got {self.context_layers}")
        if self.embed_dim % self.heads:
            raise AdwpError(
                f"heads must divide embed_dim, got embed_dim={self.embed_dim}, heads={self.heads}"
            )
        if not self.head_init_std >= 0:
            raise AdwpError(f"head_init_std must be 0 or more, got {self.head_init_std}")

    def to_dict(self) -> dict[str, int | bool | float]:
        """Returns the configuration as primitives."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HyperNetConfig:
        """Inverse of :meth:`to_dict`, reading checkpoints of every earlier version too.

        A setting missing from ``data`` was added after the checkpoint was written; it takes the
        value that reproduces the model as it was before the setting existed, not today's
        default, so an old checkpoint rebuilds the model it was trained as.

        Raises:
            AdwpError: If ``data`` holds an unknown setting or a bad value.
        """
        unknown = sorted(set(data) - {f.name for f in fields(cls)})
        if unknown:
            raise AdwpError(f"unknown hypernetwork settings: {unknown}")
        return cls(**{**_BEFORE_IT_EXISTED, **data})


class _Emitter(nn.Module):
    """Predicts one convolution (or linear) weight and its BatchNorm affine from an embedding."""

    def __init__(
        self, config: HyperNetConfig, out_max: int, in_max: int, kernel: int, predict_norm: bool
    ) -> None:
        super().__init__()
        num_bases, predict_gains = config.num_bases, config.predict_gains
        self.out_max, self.in_max, self.kernel, self.num_bases = out_max, in_max, kernel, num_bases
        # He-scale bases: the forward pass renormalises kernels by default, but Adam's steps are
        # relative to the parameter scale, so this sets the effective learning rate.
        std = math.sqrt(2.0 / (in_max * kernel * kernel))
        self.bases = nn.Parameter(torch.randn(num_bases, out_max, in_max, kernel, kernel) * std)
        self.predict_norm, self.predict_gains = predict_norm, predict_gains
        sizes = [num_bases]
        if predict_gains:
            sizes += [in_max, kernel * kernel]
        if predict_norm:
            sizes += [out_max, out_max]
        self.split = sizes
        if not predict_norm:
            self.gamma = nn.Parameter(torch.ones(out_max))
            self.beta = nn.Parameter(torch.zeros(out_max))
        self.head = nn.Linear(config.hidden, sum(sizes))
        nn.init.normal_(self.head.weight, std=config.head_init_std)
        with torch.no_grad():
            self.head.bias.zero_()
            self.head.bias[0] = 1.0  # start from the first basis: a shared-weight starting point

    def forward(self, h: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Mixes the bases for a batch of embeddings ``h`` ``[B, hidden]``.

        Returns:
            Full-size kernels ``[B, out_max, in_max, k, k]``, BN scale and shift ``[B, out_max]``.
        """
        coef, *rest = self.head(h).split(self.split, dim=-1)
        kernel = torch.einsum("bm,moikl->boikl", coef, self.bases)
        if self.predict_gains:
            in_gain, spatial, *rest = rest
            spatial = spatial.view(-1, 1, 1, self.kernel, self.kernel)
            kernel = kernel * (1 + in_gain)[:, None, :, None, None] * (1 + spatial)
        if not self.predict_norm:
            batch = h.shape[0]
            return kernel, self.gamma.expand(batch, -1), self.beta.expand(batch, -1)
        gamma, beta = rest
        return kernel, 1 + gamma, beta


def _he_scaled(w: torch.Tensor) -> torch.Tensor:
    """A kernel ``[O, I, k, k]`` with every output filter scaled to He scale."""
    in_ch, k = w.shape[1], w.shape[-1]
    rms = w.pow(2).mean(dim=(1, 2, 3), keepdim=True).add(1e-8).sqrt()
    return w / rms * math.sqrt(2.0 / (in_ch * k * k))


@GENERATORS.register("hypernet")
class HyperNetwork(nn.Module):
    """Emits all weights of any architecture of a space.

    Module names follow the space's weight slots: slots that read a token are ``slots.{i}`` in
    slot order, slots that read the global embedding are named after themselves, and the
    ``linear`` slot is ``classifier`` (with ``classifier_bias``) when predicted or
    ``shared_classifier`` (with ``shared_classifier_bias``) when shared.

    Args:
        space: A :class:`adwp.spaces.GeneratorSpace` (e.g. ``macro``).
        config: Capacity settings.

    Raises:
        AdwpError: If the space has no slot kind this network emits, or not exactly one linear
            slot.
    """

    def __init__(self, space: Any, config: HyperNetConfig | None = None) -> None:
        super().__init__()
        self.space = space
        self.config = config or HyperNetConfig()
        c = self.config
        self.context = ContextEncoder(
            space.token_features(), space.num_tokens(), c.embed_dim, c.context_layers, c.heads
        )
        self.trunk = nn.Sequential(nn.Linear(c.embed_dim, c.hidden), nn.GELU())
        self.weight_slots = {slot.name: slot for slot in space.weight_slots()}
        self.slots = nn.ModuleList()
        self._emitters: dict[str, _Emitter] = {}
        linear = [slot for slot in self.weight_slots.values() if slot.kind == "linear"]
        if len(linear) != 1:
            raise AdwpError(f"the {space.name} space must have one linear slot, has {len(linear)}")
        for slot in self.weight_slots.values():
            if slot.kind == "conv":
                out_max, in_max, k_max, _ = slot.shape
                emitter = _Emitter(c, out_max, in_max, k_max, c.predict_norm)
                if slot.token is None:
                    self.add_module(slot.name, emitter)
                else:
                    self.slots.append(emitter)
                self._emitters[slot.name] = emitter
            elif slot.kind == "linear":
                self._add_classifier(*slot.shape)
            else:
                raise AdwpError(f"weight slot {slot.name!r}: unknown kind {slot.kind!r}")

    def _add_classifier(self, num_classes: int, in_max: int) -> None:
        c = self.config
        if c.predict_classifier:
            # Its BatchNorm rows are unused (no BatchNorm follows the classifier) but kept, so
            # every checkpoint written with a predicted classifier loads unchanged.
            self.classifier = _Emitter(c, num_classes, in_max, 1, predict_norm=True)
            self.classifier_bias = nn.Linear(c.hidden, num_classes)
            nn.init.zeros_(self.classifier_bias.weight)
            nn.init.zeros_(self.classifier_bias.bias)
        else:
            self.shared_classifier = nn.Parameter(
                torch.randn(num_classes, in_max) / math.sqrt(in_max)
            )
            self.shared_classifier_bias = nn.Parameter(torch.zeros(num_classes))

    def compilable_parts(self) -> list[nn.Module]:
        """The submodules ``torch.compile`` can take: their inputs are tensors of fixed rank.

        :meth:`emit` as a whole cannot be compiled usefully: its plans are Python objects that
        change with every batch of architectures, and each new one would recompile.
        """
        return [self.context, self.trunk, *self._emitters.values(), *self._classifier_parts()]

    def _classifier_parts(self) -> list[nn.Module]:
        return [m for m in (getattr(self, "classifier", None),) if isinstance(m, nn.Module)]

    def forward(
        self, encoding: torch.Tensor, archs: Sequence[Any]
    ) -> list[dict[str, torch.Tensor]]:
        """Predicts the weights of a batch of architectures.

        Args:
            encoding: ``[B, T, F]`` from an encoder (one-hot or soft).
            archs: The B discrete architectures to emit exact shapes for.

        Returns:
            One dict per architecture mapping parameter names of ``space.build(arch)`` to tensors.
        """
        if encoding.shape[0] != len(archs):
            raise ValueError(f"{encoding.shape[0]} encodings for {len(archs)} architectures")
        return self.emit(encoding, [self.space.weight_plan(arch) for arch in archs])

    def emit(
        self, encoding: torch.Tensor, plans: Sequence[Mapping[str, Cut]]
    ) -> list[dict[str, torch.Tensor]]:
        """Predicts the parameters a weight plan names, for any module made of the space's slots.

        :meth:`forward` emits ``space.build(arch)``'s parameters (``space.weight_plan(arch)``);
        a space's relaxed network takes every operation's weights of an edge at once
        (``space.mixed_weight_plan()``), which gradient search through the hypernetwork uses.

        Args:
            encoding: ``[B, T, F]`` from an encoder (one-hot or soft), differentiable.
            plans: B plans, each mapping parameter names to the cut of a slot they take.

        Returns:
            One dict per plan mapping its parameter names to tensors.
        """
        if encoding.shape[0] != len(plans):
            raise ValueError(f"{encoding.shape[0]} encodings for {len(plans)} weight plans")
        tokens, pooled = self.context(encoding)
        token_h = self.trunk(tokens)  # [B, T, H]
        global_h = self.trunk(pooled)  # [B, H]
        used = {cut.slot for plan in plans for cut in plan.values()}
        # Each emitted part, keyed by (slot, part): [B, ...] at the slot's largest shape.
        parts: dict[tuple[str, str], torch.Tensor] = {}
        for name, emitter in self._emitters.items():
            token = self.weight_slots[name].token
            if token is not None and name not in used:
                continue
            h = global_h if token is None else token_h[:, token]
            for part, tensor in zip(("kernel", "gamma", "beta"), emitter(h), strict=True):
                parts[name, part] = tensor
        linear = next(s.name for s in self.weight_slots.values() if s.kind == "linear")
        if self.config.predict_classifier:
            parts[linear, "weight"] = self.classifier(global_h)[0][..., 0, 0]
            parts[linear, "bias"] = self.classifier_bias(global_h)
        else:
            batch = global_h.shape[0]
            parts[linear, "weight"] = self.shared_classifier.expand(batch, -1, -1)
            parts[linear, "bias"] = self.shared_classifier_bias.expand(batch, -1)
        renormalize = self.config.renormalize
        outputs = []
        for b, plan in enumerate(plans):
            weights = {}
            for name, cut in plan.items():
                weight = cut.take(parts[cut.slot, cut.part][b])
                # No BatchNorm follows the classifier, so its weights keep their learned scale.
                if cut.part == "kernel" and renormalize:
                    weight = _he_scaled(weight)
                weights[name] = weight
            outputs.append(weights)
        return outputs
