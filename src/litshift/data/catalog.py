"""The DuckDB catalog: one view per curated/derived Parquet output.

Views point at Parquet files (nothing is copied), so the catalog is cheap to rebuild and always
shows the current outputs. The paths are absolute, so the catalog answers from any working
directory (``litshift sql --db``, the ``duckdb`` shell); rebuild it after moving the results.
"""

from __future__ import annotations

import glob
import logging
from pathlib import Path

from litshift.data.io import atomic_path

__all__ = ["VIEWS", "build_catalog"]

logger = logging.getLogger(__name__)

#: view name -> Parquet path or glob, relative to the results directory.
VIEWS: dict[str, str] = {
    "assigned": "curated/assigned.parquet",
    "unassigned": "curated/unassigned.parquet",
    "literature": "curated/literature.parquet",
    "rejected": "curated/rejected.parquet",
    "splits": "splits/assigned_splits.parquet",
    "weak_train": "splits/weak_train.parquet",
    "literature_test": "splits/literature_test.parquet",
    "molecules": "molecules/molecules.parquet",
    "conformers": "conformers/shard-*.parquet",
    "eval_predictions": "eval/predictions.parquet",
    "eval_metrics": "eval/metrics.parquet",
    "eval_uncertainty": "eval/uncertainty.parquet",
    "verify_benchmark": "verify/benchmark.parquet",
    # split.heteronuclei only (config.hetero.yaml): the HOSE baseline per heteronucleus
    "hose_baseline_predictions": "eval/hose_baseline/predictions.parquet",
    "hose_baseline_metrics": "eval/hose_baseline/metrics.parquet",
}


def build_catalog(db_path: str | Path, results_dir: str | Path) -> dict[str, int]:
    """(Re)create ``db_path`` with a view for every output that exists; returns row counts.

    ``litshift sql`` reads only files under the catalog's folder, so ``db_path`` belongs in
    ``results_dir`` (the pipeline's ``results/catalog.duckdb``).
    """
    import duckdb

    counts: dict[str, int] = {}
    with atomic_path(db_path) as tmp:
        tmp.unlink()  # duckdb refuses to open an empty non-database file
        con = duckdb.connect(str(tmp))
        try:
            for name, pattern in VIEWS.items():
                path = f"{Path(results_dir).resolve().as_posix()}/{pattern}"
                if not glob.glob(path):
                    logger.info("catalog: no files for view %s (%s) yet", name, path)
                    continue
                con.execute(
                    f"CREATE VIEW {name} AS SELECT * FROM "
                    f"read_parquet('{path}', union_by_name = true)"
                )
                counts[name] = con.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
        finally:
            con.close()
    return counts
