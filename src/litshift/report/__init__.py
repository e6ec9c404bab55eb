"""litshift.report: ``results/report.html``, one self-contained page.

``collect`` (pipeline outputs -> :class:`~litshift.report.collect.ReportData`; what MLflow
knows comes in as plain :class:`~litshift.report.collect.Tracking` data), ``roles`` (which runs
the page compares, from the config), ``records`` (every section's numbers as dataclasses),
``page`` (the HTML), ``figures`` (matplotlib -> PNG data URIs), ``gallery`` (RDKit drawings of
the worst molecules). The command is :mod:`litshift.cli.report`.
"""
