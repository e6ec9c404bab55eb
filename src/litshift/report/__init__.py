"""litshift.report: ``results/report.html``, one self-contained page.

``collect`` (pipeline outputs and MLflow -> :class:`~litshift.report.collect.ReportData`),
``figures`` (matplotlib -> PNG data URIs), ``gallery`` (RDKit drawings of the worst
molecules), ``page`` (the HTML), ``command`` (the CLI).
"""
