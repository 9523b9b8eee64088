"""What the weight generators read from the ``macro`` space (the
:class:`~adwp.spaces.protocol.GeneratorSpace` protocol): its decisions as tokens, and the weight
slots every architecture's layers cut their weights from."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from adwp.spaces.macro.architecture import Architecture
from adwp.spaces.protocol import Cut, DecisionGroup, WeightSlot

__all__ = ["MacroGeneratorMethods"]


class MacroGeneratorMethods:
    """The :class:`~adwp.spaces.protocol.GeneratorSpace` methods of
    :class:`~adwp.spaces.macro.space.MacroSpace` (which defines the ``decisions``, ``plan`` and
    ``slot_shapes`` they read)."""

    def decision_groups(self) -> tuple[DecisionGroup, ...]:
        """Returns the probability tensors of the encoders: ``depth`` ``[B, S, D]``, then
        ``kernel`` ``[B, L, K]``, ``width`` ``[B, L, W]`` and ``skip`` ``[B, L, R]`` over the
        ``L = S * max_depth`` layer slots (a fixed field keeps its one-choice rows)."""
        index = {field: i for i, field in enumerate(self._fields)}
        slots = [(s, p) for s in range(self.num_stages) for p in range(self.max_depth)]
        groups = [
            DecisionGroup(
                "depth",
                tuple(index.get((s, None, "depth")) for s in range(self.num_stages)),
                len(self.depths),
            )
        ]
        for field, choices in (("kernel", self.kernels), ("width", self.widths)):
            rows = tuple(index.get((s, p, field)) for s, p in slots)
            groups.append(DecisionGroup(field, rows, len(choices)))
        rows = tuple(index.get((s, p, "skip")) for s, p in slots)
        groups.append(DecisionGroup("skip", rows, len(self.skips)))
        return tuple(groups)

    def num_tokens(self) -> int:
        """Returns the number of tokens: one per layer slot."""
        return self.num_slots

    def token_features(self) -> int:
        """Returns the features per slot token, ``1 + K + W + R``."""
        return 1 + len(self.kernels) + len(self.widths) + len(self.skips)

    def encode(self, probabilities: Sequence[Any]) -> Any:
        """Returns the slot tokens ``[B, L, 1 + K + W + R]`` of the four probability tensors.

        Per slot: the probability that it is active (``P(depth > position)``), then the joint
        probabilities ``P(active) * P(choice | active)`` of its kernel, width and skip, so an
        inactive slot of a discrete architecture is all zeros.
        """
        import torch  # torch is imported only when encodings are built

        depth, kernel, width, skip = probabilities
        depths = torch.tensor(self.depths, device=depth.device)
        positions = torch.arange(self.max_depth, device=depth.device)
        # Slot p of a stage is active when the depth exceeds p: sum the depth probabilities above p.
        longer = (depths[None, :] > positions[:, None]).to(depth.dtype)  # [M, D]
        active = torch.einsum("bsd,md->bsm", depth, longer).flatten(1).unsqueeze(-1)  # [B, L, 1]
        joint = torch.cat([kernel, width, skip], dim=-1) * active
        return torch.cat([active, joint], dim=-1)

    def weight_slots(self) -> tuple[WeightSlot, ...]:
        """Returns ``slot{i}`` per layer slot (reading token ``i``), then ``stem`` and
        ``classifier`` (reading the global embedding), all at their largest shapes."""
        k_max = max(self.kernels)
        slots = [
            WeightSlot(f"slot{i}", "conv", (out_max, in_max, k_max, k_max), token=i)
            for i, (out_max, in_max) in enumerate(self.slot_shapes())
        ]
        slots.append(WeightSlot("stem", "conv", (self.stem_width, self.in_channels, 3, 3)))
        last_max = self.channels(self.num_stages - 1, max(self.widths))
        slots.append(WeightSlot("classifier", "linear", (self.num_classes, last_max)))
        return tuple(slots)

    def weight_plan(self, arch: Architecture) -> dict[str, Cut]:
        """Returns the cut of every parameter of ``build(arch)`` (see :class:`MacroNet`)."""
        stem = self.stem_width
        cuts = {
            "stem.conv.weight": Cut("stem", "kernel", (stem, self.in_channels, 3, 3)),
            "stem.bn.weight": Cut("stem", "gamma", (stem,)),
            "stem.bn.bias": Cut("stem", "beta", (stem,)),
        }
        plans = self.plan(arch)
        for i, p in enumerate(plans):
            slot = f"slot{p.slot}"
            cuts[f"blocks.{i}.conv.weight"] = Cut(
                slot, "kernel", (p.out_ch, p.in_ch, p.kernel, p.kernel)
            )
            cuts[f"blocks.{i}.bn.weight"] = Cut(slot, "gamma", (p.out_ch,))
            cuts[f"blocks.{i}.bn.bias"] = Cut(slot, "beta", (p.out_ch,))
        cuts["classifier.weight"] = Cut(
            "classifier", "weight", (self.num_classes, plans[-1].out_ch)
        )
        cuts["classifier.bias"] = Cut("classifier", "bias", (self.num_classes,))
        return cuts
