"""litshift.evaluate: every model and baseline scored on the same held-out data.

``metrics`` (pure functions: bootstrap intervals, sorted matching, atom environments, Tanimoto
bins), ``testsets`` (assigned and literature test sets built with the trainer's own rules),
``scoring`` (prediction rows and the metrics table), ``predictor_setup`` (the calibrated
predictors ``evaluate`` and the verify benchmark score), ``comparison`` (``litshift evaluate``),
``heteronuclei`` (``litshift hose-baseline``), ``ablations`` (validation MAE of the ablation
runs over seeds). The predictors they score live in :mod:`litshift.inference`.
Imports nothing itself, so ``litshift.evaluate.metrics`` does not pay for torch.
"""
