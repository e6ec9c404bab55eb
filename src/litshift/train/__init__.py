"""litshift.train: losses, the count-mismatch policy, the training loop, checkpoints, the CLI.

Deliberately imports nothing: the Snakefile reads :mod:`litshift.train.config` and must not pay
for torch.
"""
