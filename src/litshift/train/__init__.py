"""litshift.train: losses, the schedule, the training loop, resuming and preemption, run configs.

Deliberately imports nothing: the Snakefile reads :mod:`litshift.train.config` and must not pay
for torch.
"""
