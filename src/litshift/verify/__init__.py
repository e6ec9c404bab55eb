"""litshift.verify: which candidate structure explains a measured 1H/13C spectrum.

``peaks`` (measured peak lists from text, JSON or a literature paragraph), ``candidates``
(structures to score), ``likelihood`` (the DP4 error model), ``assignment`` (which atoms explain
which peak), ``scoring`` (DP4-style probabilities), ``render`` (table, JSON, SVG),
``ranking`` (the work of ``litshift verify``), ``decoys`` and ``benchmark`` (the pipeline's
decoy benchmark). Imports nothing itself, so the light modules do not pay for torch.
"""
