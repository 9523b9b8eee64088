"""Data-parallel training across processes (``torchrun``): each process's share, the gradient sum.

Every process of a run computes the same step's architectures, encodings and image indices from
the same seeds, trains only its share of the architectures (``i % world == rank``), and the
gradients are summed over the processes before the (identical) optimiser step, so all copies of
the weight generator stay equal and equal to a one-process run's, up to the order of float sums.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = ["Team", "init_from_environment", "team"]


@dataclass(frozen=True)
class Team:
    """This process's place in a run.

    Attributes:
        rank: This process's index, 0 for the one that writes files.
        size: Number of processes.
    """

    rank: int = 0
    size: int = 1

    @property
    def main(self) -> bool:
        """Whether this process writes checkpoints, logs and prints."""
        return self.rank == 0

    def mine(self, count: int) -> list[int]:
        """The indices of ``count`` items (a step's architectures) this process takes."""
        return [i for i in range(count) if i % self.size == self.rank]

    def sum_gradients(self, parameters: list[torch.nn.Parameter]) -> None:
        """Sums every parameter's gradient over the team, in place.

        A parameter no process used keeps ``grad = None`` (the optimiser then leaves it alone,
        as in a one-process run); one that some process used gets the sum, zeros standing in for
        the processes that did not use it.
        """
        if self.size == 1:
            return
        device = parameters[0].device
        used = [p.grad is not None for p in parameters]
        counts = torch.tensor(used, dtype=torch.int32, device=device)
        dist.all_reduce(counts, op=dist.ReduceOp.SUM)
        flat = []
        for param, users in zip(parameters, counts.tolist(), strict=True):
            if users == 0:
                continue
            if param.grad is None:
                param.grad = torch.zeros_like(param)
            flat.append(param.grad)
        if not flat:
            return
        # One call for all gradients: a message per parameter would cost a latency each.
        buffer = torch.cat([g.reshape(-1) for g in flat])
        dist.all_reduce(buffer, op=dist.ReduceOp.SUM)
        offset = 0
        for grad in flat:
            grad.copy_(buffer[offset : offset + grad.numel()].view_as(grad))
            offset += grad.numel()

    def sum(self, value: float) -> float:
        """A number summed over the team (e.g. a metric of each process's share)."""
        if self.size == 1:
            return value
        tensor = torch.tensor([value], dtype=torch.float64)
        if dist.get_backend() == "nccl":
            tensor = tensor.cuda()
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return float(tensor.item())


def team() -> Team:
    """This process's team: the initialised process group, or a team of one."""
    if dist.is_available() and dist.is_initialized():
        return Team(dist.get_rank(), dist.get_world_size())
    return Team()


def init_from_environment() -> Team:
    """Joins the process group ``torchrun`` describes (``RANK``, ``WORLD_SIZE``, ...), if any.

    NCCL when CUDA is available (each process on the GPU of its ``LOCAL_RANK``), gloo otherwise.
    A process started without ``torchrun``, or with one process, stays alone.
    """
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1 or (dist.is_available() and dist.is_initialized()):
        return team()
    if torch.cuda.is_available():
        torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl")
    else:
        dist.init_process_group("gloo")
    return team()
