"""Where a trained head beats the HOSE lookup: held-out atoms by the HOSE sphere that matched.

``litshift hose-baseline --models`` scores HOSE and trained runs on the same held-out 31P/19F
sets (``predictions.parquet``). HOSE answers from the largest sphere (radius 4 down to 1) whose
environment occurs in its training labels, or the element mean (radius 0): the radius says how
familiar an atom's environment is. This refits the same HOSE model on the same training sets
(``--weak``: the run's ``weak_train.parquet``; :func:`litshift.evaluate.heteronuclei.fit_hose`)
to recover each atom's radius, and prints one Markdown table per nucleus: atoms, HOSE and model
MAE / median per radius, and each predictor's share of the total error. Atom level, on the
atoms both predictors score (each model's own sorted matching decides its observed shift).

Example::

    .venv/bin/python benchmarks/hose_radius.py \\
        --predictions /tmp/hx_ft/eval_same/predictions.parquet \\
        --weak /tmp/hx/work/results/splits/weak_train.parquet --model hetero
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import polars as pl
from rdkit import Chem

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # run without installing

from litshift.chem.hose import HoseModel  # noqa: E402
from litshift.evaluate.heteronuclei import fit_hose  # noqa: E402

KEYS = ["record_id", "nucleus", "atom_index"]


def radii(hose: HoseModel, atoms: pl.DataFrame) -> list[int]:
    """The HOSE radius each (smiles, nucleus, atom_index) row is answered from."""
    molecules: dict[str, Chem.Mol] = {}
    out = []
    for smiles, nucleus, index in atoms.select("smiles", "nucleus", "atom_index").iter_rows():
        mol_h = molecules.get(smiles) or molecules.setdefault(
            smiles, Chem.AddHs(Chem.MolFromSmiles(smiles))
        )
        out.append(hose.predict_atom(mol_h, nucleus, index)[1])
    return out


def table(joined: pl.DataFrame) -> str:
    """Markdown rows per radius, then all atoms."""
    hose_err = (pl.col("hose") - pl.col("observed")).abs()
    model_err = (pl.col("model") - pl.col("observed_model")).abs()
    total_hose, total_model = joined.select(
        hose_err.sum().alias("h"), model_err.sum().alias("m")
    ).row(0)
    lines = [
        "| radius | atoms | HOSE MAE | model MAE | HOSE median | model median "
        "| share of HOSE error | share of model error |",
        "|---|---|---|---|---|---|---|---|",
    ]
    by_radius = joined.group_by("radius").agg(
        pl.len().alias("n"),
        hose_err.mean().alias("h"),
        model_err.mean().alias("m"),
        hose_err.median().alias("hm"),
        model_err.median().alias("mm"),
        hose_err.sum().alias("hs"),
        model_err.sum().alias("ms"),
    )
    for r, n, h, m, hm, mm, hs, ms in by_radius.sort("radius").iter_rows():
        lines.append(
            f"| {r} | {n} | {h:.2f} | {m:.2f} | {hm:.2f} | {mm:.2f} "
            f"| {hs / total_hose:.0%} | {ms / total_model:.0%} |"
        )
    h, m, hm, mm = joined.select(
        hose_err.mean().alias("h"),
        model_err.mean().alias("m"),
        hose_err.median().alias("hm"),
        model_err.median().alias("mm"),
    ).row(0)
    lines.append(f"| all | {joined.height} | {h:.2f} | {m:.2f} | {hm:.2f} | {mm:.2f} | | |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--predictions", type=Path, required=True)
    parser.add_argument("--weak", type=Path, required=True, help="the run's weak_train.parquet")
    parser.add_argument("--model", required=True, help="the trained run's name in --predictions")
    parser.add_argument("--nuclei", default="31P,19F")
    parser.add_argument("--split", default="weak_test")
    parser.add_argument("--max-radius", type=int, default=4)
    parser.add_argument("--min-count", type=int, default=1)
    args = parser.parse_args()
    nuclei = args.nuclei.split(",")

    weak = pl.read_parquet(args.weak).filter(pl.col("nucleus").is_in(nuclei))
    hose, _, _ = fit_hose([], weak.to_dicts(), nuclei, args.max_radius, args.min_count)
    scored = pl.read_parquet(args.predictions).filter(
        (pl.col("split") == args.split) & pl.col("nucleus").is_in(nuclei)
    )
    joined = (
        scored.filter(pl.col("model") == "HOSE")
        .select(*KEYS, "smiles", "observed", pl.col("predicted").alias("hose"))
        .join(
            scored.filter(pl.col("model") == args.model).select(
                *KEYS,
                pl.col("observed").alias("observed_model"),
                pl.col("predicted").alias("model"),
            ),
            on=KEYS,
        )
        .drop_nulls(["hose", "model"])
    )
    joined = joined.with_columns(pl.Series("radius", radii(hose, joined)))
    for nucleus in nuclei:
        print(f"\n{nucleus} ({args.split}, atom level, {args.model} vs HOSE)\n")
        print(table(joined.filter(pl.col("nucleus") == nucleus)))


if __name__ == "__main__":
    main()
