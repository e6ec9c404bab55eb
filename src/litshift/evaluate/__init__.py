"""litshift.evaluate: every model and baseline scored on the same held-out data.

``metrics`` (pure functions: bootstrap intervals, sorted matching, atom environments, Tanimoto
bins), ``hose`` (the HOSE-code baseline), ``testsets`` (assigned and literature test sets built
with the trainer's own rules), ``predictors`` (trained models, HOSE, CSP5 behind one
interface), ``scoring`` (prediction rows and the metrics table), ``evaluate_stage`` (the CLI);
``ablations`` (validation MAE of the ablation runs over seeds) and ``ablations_stage`` (its CLI).
Imports nothing itself, so ``litshift.evaluate.metrics`` does not pay for torch.
"""
