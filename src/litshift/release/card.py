"""The release model's card: what it was trained on, how well it does, where it should not be used.

Everything on the card is read from files written by the code that made the model (each member
run's ``metrics.json``, ``config.json``, ``calibration.json``; for an ensemble, the evaluation of
the ensemble as one predictor), so the card cannot drift from the checkpoints beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict
from typing import Any, NamedTuple

from litshift.model.transformer import PRESETS

__all__ = ["DATA_SOURCES", "KNOWN_LIMITS", "Member", "model_card"]


class Member(NamedTuple):
    """One finished training run of the shipped model (an ensemble has several)."""

    run: str
    """The run's name (its folder)."""
    metrics: Mapping[str, Any]
    """Its ``metrics.json``."""
    config: Mapping[str, Any]
    """Its ``config.json``."""
    calibration: Mapping[str, Any]
    """Its ``calibration.json``."""
    base: Mapping[str, Any] | None = None
    """The checkpoint it was fine-tuned from (``train.init_from``) as loaded, when on disk."""


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
        interval = (
            f" [{split[f'mae_lo.{nucleus}']:.3f}, {split[f'mae_hi.{nucleus}']:.3f}]"
            if f"mae_lo.{nucleus}" in split
            else ""
        )
        rows.append(
            [
                nucleus,
                "all",
                f"{split[f'mae.{nucleus}']:.3f}{interval}",
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


def _recipe_lines(member: Member) -> list[str]:
    """How one run was trained (an ensemble's members share it but for what the card says)."""
    metrics, config = member.metrics, member.config
    counts = metrics.get("counts", {})
    model = config.get("model", {})
    return [
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
        *_base_lines(config, member.base),
        f"- Examples: {_count(counts, 'labeled.examples.train')} training, "
        f"{_count(counts, 'labeled.examples.valid')} validation (early stopping, calibration), "
        f"{_count(counts, 'labeled.examples.test')} test molecule-solvent pairs"
        + (f"; {counts['weak.examples']:,} weak examples" if counts.get("weak.examples") else ""),
    ]


def _resolved(config: Mapping[str, Any]) -> dict[str, Any]:
    """A run config with its model overrides resolved against the preset, so that two runs
    whose architectures are equal compare equal however their overrides were written."""
    preset = PRESETS.get(config.get("preset", ""))
    model = {**(asdict(preset) if preset else {}), **(config.get("model") or {})}
    return {
        **config,
        "model": {k: tuple(v) if isinstance(v, list) else v for k, v in model.items()},
    }


def _flat(config: Mapping[str, Any]) -> dict[str, Any]:
    """``config`` with its mappings (``model``, ``nucleus_weights``) one level flattened
    (``model.dropout``), so that a difference names the setting, not the whole mapping."""
    flat: dict[str, Any] = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            flat.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            flat[key] = value
    return flat


def _differences(configs: Sequence[Mapping[str, Any]]) -> list[str]:
    """The (flattened) config keys, ``init_from`` aside (each member starts from its own first
    stage), in which the configs differ; a key one config lacks differs."""
    flat = [_flat(_resolved(c)) for c in configs]
    keys = sorted({k for c in flat for k in c} - {"init_from"})
    return [k for k in keys if len({repr(c.get(k)) for c in flat}) > 1]


def _setting(config: Mapping[str, Any], key: str) -> str:
    value = _flat(_resolved(config)).get(key)
    return "default" if value is None else str(value)


def _ensemble_lines(members: Sequence[Member], nuclei: list[str]) -> list[str]:
    """What makes the members differ (their settings and those of their first stages), and
    each one's own test figures."""
    differ = _differences([m.config for m in members])
    bases = [m.base for m in members]
    base_differ = (
        [k for k in _differences([b["train_config"] for b in bases]) if k not in differ]
        if all(b is not None for b in bases)
        else []
    )
    columns = [k for k in differ if k != "seed"]
    rows = [
        [
            m.run,
            str(m.config.get("seed")),
            *(_setting(m.config, k) for k in columns),
            *(_setting((m.base or {}).get("train_config", {}), k) for k in base_differ),
            str(m.metrics["best_step"]),
            f"{m.metrics['train_seconds'] / 60:.0f}",
            f"`{str(m.metrics.get('git_commit') or '?')[:12]}`",
            *(f"{m.metrics['test'].get(f'mae.{n}', float('nan')):.3f}" for n in nuclei),
        ]
        for m in members
    ]
    said = ", ".join(differ + [f"first stage {k}" for k in base_differ])
    header = ["run", "seed", *columns, *(f"first stage {k}" for k in base_differ)]
    return [
        f"A deep ensemble of {len(members)} runs, differing in {said or 'nothing in their config'}:"
        " the prediction is the members' mean, the std that of their moment-matched mixture "
        "(each member calibrated first). The recipe (the first member's; the others differ as "
        "the table says):",
        "",
        *_recipe_lines(members[0]),
        "",
        "Members (test MAE as each run scored itself, per atom without symmetrization):",
        "",
        _table(
            rows,
            [*header, "best step", "minutes", "commit", *(f"test {n}" for n in nuclei)],
        ),
    ]


def model_card(
    members: Sequence[Member],
    test: Mapping[str, float],
    commit: str,
    command: str,
    baselines: Mapping[str, Mapping[str, float]] | None = None,
    domain: Mapping[str, Any] | None = None,
    evaluated: bool = False,
) -> str:
    """Markdown model card of the shipped model: one finished ``litshift train`` run, or a deep
    ensemble of several.

    Parameters
    ----------
    members
        The runs, in the order they are loaded.
    test
        The shipped predictor's test figures: ``mae.<nucleus>``, ``n.<nucleus>``, per solvent
        class ``mae.<nucleus>.<class>`` / ``n.<nucleus>.<class>``, optionally the bootstrap
        interval ``mae_lo.<nucleus>`` / ``mae_hi.<nucleus>`` and the coverages
        ``cov<level>.<nucleus>``.
    commit
        Git commit the model was trained at.
    command
        The command that trained and packaged it (reproducibility).
    baselines
        Optional name -> ``{"mae.1H": ..., "mae.13C": ...}`` on the same test split.
    domain
        The checkpoint's applicability domain (:class:`litshift.inference.domain.Domain` as a
        dict), summarized on the card.
    evaluated
        ``test`` comes from ``litshift evaluate`` (symmetrized, with intervals), not from the
        run's own scores.
    """
    nuclei = [k.removeprefix("mae.") for k in test if k.count(".") == 1 and k.startswith("mae.")]
    training = _ensemble_lines(members, nuclei) if len(members) > 1 else _recipe_lines(members[0])
    source = (
        "scored by `litshift evaluate` as one predictor: predictions averaged over topologically "
        "equivalent atoms, one row per atom and spectrum, 95 % cluster-bootstrap interval"
        if evaluated
        else "the run's own scores"
    )
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
        "- Split: the default pipeline split (`config.yaml` `split:`, seed and "
        "InChIKey-connectivity groups); validation and test molecules and the literature test "
        "file were never trained on, so the figures below are held out.",
        "",
        *training,
        "",
        "## Data sources",
        "",
        _table([list(row) for row in DATA_SOURCES], ["source", "used for", "licence"]),
        "",
        "## Test metrics (held-out assigned test split, atom level, ppm)",
        "",
        f"Figures: {source}.",
        "",
        _table(
            _metric_rows(test, nuclei),
            ["nucleus", "solvent class", "MAE", "atoms", "coverage 50 / 80 / 95 %"],
        ),
        "",
    ]
    if baselines:
        rows = [
            [name, *(f"{values.get(f'mae.{n}', float('nan')):.3f}" for n in nuclei)]
            for name, values in baselines.items()
        ]
        rows.append(["this model", *(f"{test[f'mae.{n}']:.3f}" for n in nuclei)])
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
    factors = "; ".join(
        (f"{m.run}: " if len(members) > 1 else "")
        + ", ".join(f"{n} × {s['all']:.3f}" for n, s in m.calibration.get("scales", {}).items())
        for m in members
    )
    parts += [
        "## Calibration",
        "",
        "The uncertainty head's std is multiplied by one factor per nucleus fitted on the "
        f"validation split (Gaussian NLL): {factors}. Coverage of the resulting intervals on "
        "the test split is in the table above.",
        "",
        "## Known limits",
        "",
        *(f"- {limit}" for limit in KNOWN_LIMITS),
        "",
    ]
    return "\n".join(parts)
