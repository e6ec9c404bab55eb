"""The release model's card: what it was trained on, how well it does, where it should not be used.

Everything on the card is read from the training run's own files (``metrics.json``,
``config.json``, ``calibration.json``), so the card cannot drift from the checkpoint beside it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["DATA_SOURCES", "KNOWN_LIMITS", "model_card"]

#: (source, what the model took from it, licence)
DATA_SOURCES: tuple[tuple[str, str, str], ...] = (
    (
        "NMRShiftDB2 (nmrshiftdb.nmr.uni-koeln.de), NMR8K subset via CASCADE",
        "atom-assigned 1H/13C spectra: training split only",
        "CC BY-SA (data), MIT (CASCADE subset)",
    ),
    (
        "NMRShiftDB2 JSON-lines records",
        "molecule-level shift sets (weak labels) when the run is semi-supervised",
        "CC BY-SA",
    ),
    (
        "NMRExtractor / NMRBank literature paragraphs",
        "peak lists of the training file (weak labels, semi runs); the test file is held out",
        "MIT",
    ),
)

KNOWN_LIMITS: tuple[str, ...] = (
    "Outside its applicability domain (below) a prediction can be wrong by tens of ppm (C-I "
    "and Si-CH3 carbons, metallocenes): such rows say in_domain = false, carry a std widened "
    "2x, and `--strict` refuses them.",
    "One MMFF conformer per molecule: flexible molecules and conformer-dependent shifts "
    "(diastereotopic CH2 protons) are averaged over topological symmetry classes, not over "
    "conformers.",
    "Solvent enters as three classes (CDCl3, DMSO-d6, other); most NMRShiftDB2 training "
    "spectra have an unreported solvent, so solvent effects are learned from few examples.",
    "Exchangeable protons (OH, NH, SH) depend on concentration, temperature and water content; "
    "their predictions are the least reliable 1H values.",
    "Intervals are calibrated on the validation split (Gaussian, one scale per nucleus); errors "
    "have heavier tails than a Gaussian, so central intervals over-cover and the 95 % ones can "
    "fall a little short (coverage columns above).",
)


def _table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def _count(counts: Mapping[str, Any], key: str) -> str:
    return f"{counts[key]:,}" if key in counts else "?"


def _metric_rows(split: Mapping[str, float], nuclei: list[str]) -> list[list[str]]:
    """Per nucleus and solvent class: MAE, atoms, and the interval coverages when present."""
    rows = []
    for nucleus in nuclei:
        if f"mae.{nucleus}" not in split:
            continue
        coverage = " / ".join(
            f"{split[f'cov{level}.{nucleus}']:.3f}"
            for level in (50, 80, 95)
            if f"cov{level}.{nucleus}" in split
        )
        rows.append(
            [
                nucleus,
                "all",
                f"{split[f'mae.{nucleus}']:.3f}",
                f"{int(split[f'n.{nucleus}']):,}",
                coverage or "–",
            ]
        )
        for solvent in ("CDCl3", "DMSO-d6", "other"):
            key = f"mae.{nucleus}.{solvent}"
            if key in split:
                rows.append(
                    [
                        nucleus,
                        solvent,
                        f"{split[key]:.3f}",
                        f"{int(split[f'n.{nucleus}.{solvent}']):,}",
                        "",
                    ]
                )
    return rows


def _base_lines(config: Mapping[str, Any], base: Mapping[str, Any] | None) -> list[str]:
    """The first stage of a fine-tuned model: where it started and how that was trained."""
    if not config.get("init_from"):
        return []
    line = f"- Started from `{config['init_from']}`"
    if base is not None:
        first = base["train_config"]
        line += (
            f": a {first['mode']} run of the same preset ({first.get('max_steps')} steps of "
            f"batch {first['batch_labeled']}, lr {first['lr']}, best validation at step "
            f"{base['step']}"
            + (f", commit `{base['git_commit']}`" if base.get("git_commit") else "")
            + "); the steps above fine-tune it"
        )
    return [line]


def model_card(
    metrics: Mapping[str, Any],
    config: Mapping[str, Any],
    calibration: Mapping[str, Any],
    commit: str,
    command: str,
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    domain: Mapping[str, Any] | None = None,
    base: Mapping[str, Any] | None = None,
) -> str:
    """Markdown model card of one finished ``litshift train`` run.

    Parameters
    ----------
    metrics, config, calibration
        The run's ``metrics.json``, ``config.json`` and ``calibration.json``.
    commit
        Git commit the model was trained at.
    command
        The command that trained and packaged it (reproducibility).
    baselines
        Optional name -> ``{"mae.1H": ..., "mae.13C": ...}`` on the same test split.
    domain
        The checkpoint's applicability domain (:class:`litshift.inference.domain.Domain` as a
        dict), summarized on the card.
    base
        The checkpoint a fine-tuning run started from (``train.init_from``) as loaded, so the
        card names both stages of training.
    """
    nuclei = [
        k.removeprefix("mae.")
        for k in metrics["test"]
        if k.count(".") == 1 and k.startswith("mae.")
    ]
    counts = metrics.get("counts", {})
    model = config.get("model", {})
    scales = calibration.get("scales", {})
    parts = [
        "# litshift release model",
        "",
        "Predicts 1H and 13C chemical shifts (ppm) with a calibrated standard deviation per atom "
        "from a structure and a solvent class. Used by `litshift predict` and `litshift verify` "
        "when no `--model` is given and the working directory holds no pipeline model.",
        "",
        "## Training",
        "",
        f"- Commit: `{commit}`",
        f"- Command: `{command}`",
        f"- Mode: {config['mode']}; preset {config['preset']} with {model or 'no overrides'}",
        f"- Steps: {metrics['steps']} (best validation at step {metrics['best_step']}, "
        f"stop: {metrics['stop_reason']}); {metrics['train_seconds'] / 60:.0f} min of training "
        f"on {metrics.get('device', 'cpu')}, {metrics['n_parameters']:,} parameters",
        f"- Optimizer: AdamW lr {config['lr']}, batch {config['batch_labeled']} labeled"
        + (
            f" + {config['batch_weak']} weak (λ = {config['lambda_mol']})"
            if config["mode"] == "semi"
            else ""
        )
        + f", cosine schedule, weight EMA {config.get('ema_decay')}",
        *_base_lines(config, base),
        f"- Examples: {_count(counts, 'labeled.examples.train')} training, "
        f"{_count(counts, 'labeled.examples.valid')} validation (early stopping, calibration), "
        f"{_count(counts, 'labeled.examples.test')} test molecule-solvent pairs"
        + (f"; {counts['weak.examples']:,} weak examples" if counts.get("weak.examples") else ""),
        "- Split: the default pipeline split (`config.yaml` `split:`, seed and "
        "InChIKey-connectivity groups); validation and test molecules and the literature test "
        "file were never trained on, so the figures below are held out.",
        "",
        "## Data sources",
        "",
        _table([list(row) for row in DATA_SOURCES], ["source", "used for", "licence"]),
        "",
        "## Test metrics (held-out assigned test split, atom level, ppm)",
        "",
        _table(
            _metric_rows(metrics["test"], nuclei),
            ["nucleus", "solvent class", "MAE", "atoms", "coverage 50 / 80 / 95 %"],
        ),
        "",
    ]
    if baselines:
        rows = [
            [name, *(f"{values.get(f'mae.{n}', float('nan')):.3f}" for n in nuclei)]
            for name, values in baselines.items()
        ]
        rows.append(["this model", *(f"{metrics['test'][f'mae.{n}']:.3f}" for n in nuclei)])
        parts += [
            "Same test split, the other predictors of the pipeline's evaluation "
            "(`make report`: HOSE fitted on the training split, the headline runs at their "
            "default CPU budget; atom level, ppm):",
            "",
            _table(rows, ["predictor", *nuclei]),
            "",
        ]
    if domain:
        charges = ", ".join(domain.get("charges", [])) or "none"
        parts += [
            "## Applicability domain",
            "",
            f"Derived from its {domain['molecules']:,} training molecules and stored in the "
            f"checkpoint: elements {', '.join(domain['elements'])}; non-zero formal charges "
            f"{charges}; radicals {'seen' if domain.get('radicals') else 'none'}; "
            f"{len(domain['atom_types']):,} atom types and {len(domain['environments']):,} "
            f"radius-1 environments; at most {domain['heavy_atoms'][1]} heavy atoms. "
            "`litshift predict` and `verify` flag every molecule outside it.",
            "",
        ]
    parts += [
        "## Calibration",
        "",
        "The uncertainty head's std is multiplied by one factor per nucleus fitted on the "
        "validation split (Gaussian NLL): "
        + ", ".join(f"{n} × {s['all']:.3f}" for n, s in scales.items())
        + ". Coverage of the resulting intervals on the test split is in the table above.",
        "",
        "## Known limits",
        "",
        *(f"- {limit}" for limit in KNOWN_LIMITS),
        "",
    ]
    return "\n".join(parts)
