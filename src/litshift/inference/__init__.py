"""litshift.inference: a trained model (or baseline) turned into shifts for structures.

``runtime`` (device, autocast, DDP), ``prediction`` (batched, symmetric ppm predictions),
``uncertainty`` (calibrated standard deviations and intervals), ``domain`` (applicability
domain), ``predictors`` (trained models, HOSE and CSP5 behind one interface), ``shipped`` (the
release model in the package). Below training, evaluation and verification, which all use it.
"""
