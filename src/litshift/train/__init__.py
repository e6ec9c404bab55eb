"""litshift.train: losses, the schedule, the training loop, resuming and preemption, run configs,
one run from tables to run directory (``run``, ``examples``) and the launcher's command lines.

Deliberately imports nothing: the Snakefile reads :mod:`litshift.train.config` and must not pay
for torch.
"""
