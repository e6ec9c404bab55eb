"""litshift.release: the shipped model's files (``model.pt``, ``calibration.json``,
``MODEL_CARD.md``) and how a finished run becomes them (``card``, ``package``).

Where the files lie and which model a command uses by default is
:mod:`litshift.inference.shipped`, so prediction never imports this packaging code.
"""
