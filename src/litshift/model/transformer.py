"""SE(3)-invariant transformer that predicts per-atom NMR chemical shifts from one 3D conformer.

Design (after Uni-Mol, Zhou et al., ICLR 2023; re-implemented, not vendored):

* Every atom, hydrogens included, is a token embedded by its atomic number (with
  ``implicit_hydrogens``, the tiny preset: every atom but the H bonded to a heavy atom, which
  become that atom's H count and read its outputs). A ``[CLS]`` token sits at position 0; it
  carries the solvent in the default ``solvent_mode="cls"``.
* Geometry enters only through interatomic distances, so the network is invariant to rotations
  and translations by construction and, having no positional encoding, equivariant to atom
  permutations. Each distance is mapped by an affine transform that depends on the ordered
  atom-type pair (a C-H distance means something else than an O-O distance), expanded on K
  learned Gaussians and projected by a small MLP to one attention bias per head. Each head also
  gets a learned locality term ``-slope_h * distance`` (ALiBi-like; slopes start at 1/4 ... 4
  per Angstrom), so from the first step some heads look at bonded neighbours and others at the
  whole molecule.
* The bias is a pair representation that evolves: the pre-softmax attention logits of layer l
  are the bias of layer l+1, so pair information accumulates through depth.
* Pre-LayerNorm blocks with GELU; one small MLP head per nucleus reads every atom token.
  Predictions are in normalized units; ``shift_mean``/``shift_std`` buffers (saved with the
  weights) map them back to ppm.
* Optional uncertainty (``uncertainty="gaussian"``): a second small MLP per nucleus reads the
  *detached* final atom tokens and predicts the log standard deviation of a Gaussian around
  the mean. It is trained by the NLL of detached residuals (:func:`litshift.train.losses.
  gaussian_nll`), so no gradient of it reaches the trunk or the mean heads: the mean trains
  exactly as without it, and the head costs one small MLP per atom (measured against a deep
  ensemble in ``benchmarks/uncertainty.py``).

Why the locality term and the fan-in init of the kernel MLP (measured, see the training
report): with BERT's normal(0.02) init on both layers of the kernel MLP the distance bias starts
at std ~0.002, so attention is uniform over the molecule, every carbon sees the same context and
the network can only predict the per-nucleus mean. Adam grows a product of two small layers
slowly, so a 4-layer model spent most of a few-hundred-step CPU budget on that plateau (still
the mean predictor, 42 ppm 13C, after 100 steps; a 1-layer model escaped sooner, which looked
like "depth hurts"). Starting with local attention removes the plateau: on 2.5k labeled
molecules, 400 steps of B1=16 at lr 2e-3, the 4-layer tiny model went from 13.8 to 9.6 ppm 13C
and from 0.78 to 0.58 ppm 1H validation MAE.

Padding: atomic number 0. Padded keys get ``-inf`` logits; the ``[CLS]`` key is never padded, so
no softmax row is empty and fully padded rows stay finite.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from litshift.chem.graph import FEATURE_SIZES, MAX_TOPOLOGY

__all__ = [
    "ELEMENT_TOKENS",
    "SOLVENT_MODES",
    "UNCERTAINTY_MODES",
    "ModelConfig",
    "PRESETS",
    "ShiftTransformer",
]

SOLVENT_MODES: tuple[str, ...] = ("cls", "global_bias", "none")
UNCERTAINTY_MODES: tuple[str, ...] = ("none", "gaussian")


@dataclass
class ModelConfig:
    """Architecture hyperparameters; saved in every checkpoint so weights describe themselves."""

    n_layers: int  # transformer blocks
    n_heads: int  # attention heads; also the width of the pair representation
    d_model: int  # token width
    d_ffn: int  # hidden width of the feed-forward sublayer
    n_kernels: int  # Gaussian distance kernels K (paper: 128)
    dropout: float  # dropout on embeddings, residual branches and head hidden layers
    attn_dropout: float  # dropout on attention probabilities
    max_atoms: int = 512  # largest molecule (atoms incl. H) the model accepts
    n_atom_types: int = 128  # embedding rows, indexed by atomic number; 0 = padding
    nuclei: tuple[str, ...] = ("1H", "13C")  # one regression head per nucleus, in output order
    solvent_mode: str = "cls"  # "cls" | "global_bias" | "none" (see ShiftTransformer)
    n_solvent_classes: int = 3  # order = litshift.chem.solvents.SOLVENT_CLASSES
    # "none" | "gaussian": a per-atom log-std head (checkpoints without the field load as "none")
    uncertainty: str = "none"
    # chemistry handed to the network (litshift.chem.graph); off = the published element tokens
    # and 3D distances only (checkpoints without the fields load as off)
    atom_features: bool = False  # aromaticity, hybridization, degree, H count, charge, ring size
    topology_bias: bool = False  # a learned per-head attention bias per bond count
    # hydrogens as counts on their heavy atom instead of tokens (needs topology_bias): an H
    # atom's outputs are its heavy atom's; about half the tokens, see ShiftTransformer
    implicit_hydrogens: bool = False

    def __post_init__(self) -> None:
        self.nuclei = tuple(self.nuclei)  # JSON/YAML round trips turn tuples into lists
        if self.solvent_mode not in SOLVENT_MODES:
            raise ValueError(f"solvent_mode must be in {SOLVENT_MODES}, got {self.solvent_mode!r}")
        if self.uncertainty not in UNCERTAINTY_MODES:
            raise ValueError(
                f"uncertainty must be in {UNCERTAINTY_MODES}, got {self.uncertainty!r}"
            )
        if self.implicit_hydrogens and not (self.topology_bias and self.atom_features):
            raise ValueError(
                "implicit_hydrogens needs topology_bias (to find each H's heavy atom) and "
                "atom_features (which carry the H counts)"
            )
        if self.d_model % self.n_heads:
            raise ValueError(f"d_model={self.d_model} is not divisible by n_heads={self.n_heads}")


#: ModelConfig overrides that switch every graph input off: the published inputs (element
#: tokens, every H a token, 3D distances only), e.g. on top of the tiny preset
ELEMENT_TOKENS: dict[str, bool] = {
    "atom_features": False,
    "topology_bias": False,
    "implicit_hydrogens": False,
}

PRESETS: dict[str, ModelConfig] = {
    # CPU default: a few minutes per epoch of ~20k molecules on 2 cores. Given the chemistry
    # (atom categories, bond counts): 4000 supervised steps reach 3.1 instead of 4.1 ppm 13C
    # validation MAE at 20 % less wall time; hydrogens as counts on their heavy atom: 1.75x the
    # molecules/s, which the default budget spends on more steps (2.36 instead of 2.54 ppm 13C
    # test MAE, two seeds; benchmarks/results/architecture.md).
    "tiny": ModelConfig(
        n_layers=4,
        n_heads=8,
        d_model=128,
        d_ffn=256,
        n_kernels=32,
        dropout=0.05,
        attn_dropout=0.0,
        atom_features=True,
        topology_bias=True,
        implicit_hydrogens=True,
    ),
    # The published Uni-Mol/NMR recipe: element tokens and 3D distances only.
    "paper": ModelConfig(
        n_layers=15,
        n_heads=64,
        d_model=512,
        d_ffn=2048,
        n_kernels=128,
        dropout=0.1,
        attn_dropout=0.1,
    ),
}


class GaussianDistanceBias(nn.Module):
    """Distances -> per-head attention bias through pair-type-dependent Gaussian kernels."""

    def __init__(self, n_kernels: int, n_atom_types: int, n_heads: int) -> None:
        super().__init__()
        self.n_atom_types = n_atom_types
        # One affine map of the distance per ordered atom-type pair, starting at the identity.
        self.pair_scale = nn.Embedding(n_atom_types * n_atom_types, 1)
        self.pair_shift = nn.Embedding(n_atom_types * n_atom_types, 1)
        # Kernel centres spread over bonded-to-long-range distances (Angstrom), learned.
        self.means = nn.Parameter(torch.linspace(0.0, 8.0, n_kernels))
        self.stds = nn.Parameter(torch.full((n_kernels,), 8.0 / n_kernels + 0.5))
        self.proj = nn.Sequential(
            nn.Linear(n_kernels, n_kernels), nn.GELU(), nn.Linear(n_kernels, n_heads)
        )
        # Per-head locality (1/Angstrom), geometric from broad to bonded-neighbour attention.
        self.slopes = nn.Parameter(torch.logspace(-2.0, 2.0, n_heads, base=2.0))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Identity pair maps and fan-in (PyTorch default) init of the kernel MLP.

        Not the model's normal(0.02): two such layers in a row give a distance bias of std
        ~0.002, i.e. no geometry at the start of training (see the module docstring).
        """
        nn.init.ones_(self.pair_scale.weight)
        nn.init.zeros_(self.pair_shift.weight)
        for layer in self.proj:
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()

    def forward(self, dist: Tensor, types: Tensor) -> Tensor:
        """
        Parameters
        ----------
        dist
            Interatomic distances, shape ``B x N x N``.
        types
            Atomic numbers (already clipped to the embedding range), shape ``B x N``.

        Returns
        -------
        Tensor
            Attention bias, shape ``B x H x N x N``.
        """
        pair = types[:, :, None] * self.n_atom_types + types[:, None, :]  # (B, N, N)
        scale, shift = self.pair_scale(pair)[..., 0], self.pair_shift(pair)[..., 0]  # (B, N, N)
        x = scale * dist + shift  # (B, N, N)
        std = self.stds.abs() + 1e-2  # (K,)
        z = (x.float().unsqueeze(-1) - self.means) / std  # (B, N, N, K)
        kernels = torch.exp(-0.5 * z * z) / (math.sqrt(2.0 * math.pi) * std)  # (B, N, N, K)
        bias = self.proj(kernels) - self.slopes * dist.unsqueeze(-1)  # (B, N, N, H)
        return bias.permute(0, 3, 1, 2)  # (B, H, N, N)


class Block(nn.Module):
    """Pre-LN transformer block whose attention takes and returns the pair representation."""

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.n_heads = config.n_heads
        self.ln_attn = nn.LayerNorm(config.d_model)
        self.qkv = nn.Linear(config.d_model, 3 * config.d_model)
        self.out = nn.Linear(config.d_model, config.d_model)
        self.attn_dropout = nn.Dropout(config.attn_dropout)
        self.ln_ffn = nn.LayerNorm(config.d_model)
        self.ffn = nn.Sequential(
            nn.Linear(config.d_model, config.d_ffn),
            nn.GELU(),
            nn.Linear(config.d_ffn, config.d_model),
        )
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, x: Tensor, pair: Tensor, key_padding: Tensor) -> tuple[Tensor, Tensor]:
        """
        Parameters
        ----------
        x
            Tokens, shape ``B x N x D``.
        pair
            Attention bias from the previous layer, shape ``B x H x N x N``.
        key_padding
            ``True`` for padded tokens, shape ``B x N``.

        Returns
        -------
        tuple[Tensor, Tensor]
            Updated tokens ``B x N x D`` and this layer's logits ``B x H x N x N`` (next bias).
        """
        B, N, D = x.shape
        q, k, v = self.qkv(self.ln_attn(x)).split(D, dim=-1)  # 3 x (B, N, D)
        q, k, v = (t.view(B, N, self.n_heads, D // self.n_heads).transpose(1, 2) for t in (q, k, v))
        logits = q @ k.transpose(-2, -1) / math.sqrt(D // self.n_heads) + pair  # (B, H, N, N)
        masked = logits.masked_fill(key_padding[:, None, None, :], float("-inf"))  # (B, H, N, N)
        attn = self.attn_dropout(torch.softmax(masked, dim=-1))  # (B, H, N, N)
        y = (attn @ v).transpose(1, 2).reshape(B, N, D)  # (B, N, D)
        x = x + self.dropout(self.out(y))  # (B, N, D)
        x = x + self.dropout(self.ffn(self.ln_ffn(x)))  # (B, N, D)
        return x, logits


def _heavy_atoms(
    types: Tensor, coords: Tensor, features: Tensor, topology: Tensor
) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    """The heavy-atom tokens of a batch, packed to the front, and where each atom reads from.

    Hydrogens bonded to a heavy atom become its H count (an atom feature); every other atom,
    an H without a heavy neighbour (H2, a hydride) included, stays a token. Why: about half the
    atoms of an organic molecule are such H, and tokens set the cost of every layer, while an
    H's shift is a property of its heavy atom's environment (its H-specific geometry is fixed
    by that atom's; topologically equivalent H get one shift anyway).

    Returns
    -------
    types, coords, features, topology
        The inputs restricted to the kept tokens, ``B x M`` (M = most kept per molecule; later
        positions are padding, type 0).
    source
        Long ``B x N``: the packed position whose outputs each original atom takes (its own
        token, or its heavy atom's for a bonded H; 0 for padding).
    """
    heavy = types > 1  # (B, N)
    bonded = (topology == 1) & heavy[:, None, :]  # (B, N, N): j is a heavy neighbour of i
    has_parent = bonded.any(-1)  # (B, N)
    kept = heavy | ((types == 1) & ~has_parent)  # (B, N)
    order = torch.argsort((~kept).to(torch.int8), dim=1, stable=True)  # kept atoms first
    M = max(int(kept.sum(1).max()), 1)
    index = order[:, :M]  # (B, M)
    position = torch.argsort(order, dim=1)  # (B, N): packed position of every atom
    parent = bonded.to(torch.int8).argmax(-1)  # (B, N): first heavy neighbour
    reads = torch.where(kept, torch.arange(types.shape[1], device=types.device), parent)
    # kept atoms and their heavy neighbours sit before M; padding reads position 0
    source = torch.where(types > 0, position.gather(1, reads), 0)  # (B, N)
    packed_types = types.gather(1, index).masked_fill(~kept.gather(1, index), 0)  # (B, M)
    packed_coords = coords.gather(1, index[..., None].expand(-1, -1, 3))
    packed_features = features.gather(1, index[..., None].expand(-1, -1, features.shape[-1]))
    rows = topology.gather(1, index[..., None].expand(-1, -1, topology.shape[-1]))
    packed_topology = rows.gather(2, index[:, None, :].expand(-1, M, -1))  # (B, M, M)
    return packed_types, packed_coords, packed_features, packed_topology, source


def _unpack(outputs: Tensor, source: Tensor) -> Tensor:
    """Token outputs ``B x M x K`` -> per-atom outputs ``B x N x K`` (``source`` of
    :func:`_heavy_atoms`)."""
    return outputs.gather(1, source[..., None].expand(-1, -1, outputs.shape[-1]))


class ShiftTransformer(nn.Module):
    """Per-atom shift regressor; see the module docstring for the architecture.

    Solvent modes: ``"cls"`` adds a learned solvent-class embedding to the ``[CLS]`` input, so the
    solvent can interact with every atom through attention; ``"global_bias"`` adds a learned
    per-(solvent class, nucleus) offset to every output (the ablation: a solvent only shifts
    all atoms of a nucleus equally); ``"none"`` ignores the solvent.
    """

    def __init__(self, config: ModelConfig) -> None:
        super().__init__()
        self.config = config
        n_out = len(config.nuclei)
        self.atom_embed = nn.Embedding(config.n_atom_types, config.d_model, padding_idx=0)
        if config.atom_features:
            # one table for all features: row offsets[f] + category (category 0 = padding)
            offsets = torch.tensor((0, *FEATURE_SIZES[:-1])).cumsum(0)
            self.register_buffer("feature_offsets", offsets, persistent=False)
            self.feature_embed = nn.Embedding(sum(FEATURE_SIZES), config.d_model)
        if config.topology_bias:
            self.topology_embed = nn.Embedding(MAX_TOPOLOGY + 2, config.n_heads)
        self.cls_token = nn.Parameter(torch.zeros(config.d_model))
        self.cls_pair_bias = nn.Parameter(torch.zeros(config.n_heads))  # [CLS] row/col bias
        self.distance_bias = GaussianDistanceBias(
            config.n_kernels, config.n_atom_types, config.n_heads
        )
        self.embed_dropout = nn.Dropout(config.dropout)
        self.blocks = nn.ModuleList(Block(config) for _ in range(config.n_layers))
        self.ln_final = nn.LayerNorm(config.d_model)
        self.heads = nn.ModuleList(
            nn.Sequential(
                nn.Linear(config.d_model, config.d_model),
                nn.GELU(),
                nn.Dropout(config.dropout),
                nn.Linear(config.d_model, 1),
            )
            for _ in range(n_out)
        )
        if config.solvent_mode == "cls":
            self.solvent_embed = nn.Embedding(config.n_solvent_classes, config.d_model)
        elif config.solvent_mode == "global_bias":
            self.solvent_offset = nn.Embedding(config.n_solvent_classes, n_out)
        self.register_buffer("shift_mean", torch.zeros(n_out))
        self.register_buffer("shift_std", torch.ones(n_out))
        self.apply(self._init_weights)
        self.distance_bias.reset_parameters()
        if config.solvent_mode == "global_bias":
            nn.init.zeros_(self.solvent_offset.weight)  # start with no solvent effect
        if config.topology_bias:
            nn.init.zeros_(self.topology_embed.weight)  # geometry alone at the start
        if config.uncertainty == "gaussian":
            # Built last and from a forked RNG: the mean's initial values and the dropout masks
            # of training stay those of the same model without the head.
            with torch.random.fork_rng(devices=[]):
                self.scale_heads = nn.ModuleList(
                    nn.Sequential(
                        nn.Linear(config.d_model, config.d_model),
                        nn.GELU(),
                        nn.Linear(config.d_model, 1),
                    )
                    for _ in range(n_out)
                )
                self.scale_heads.apply(self._init_weights)  # log-std 0: the nucleus' std

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        """BERT-style init (normal 0.02); the distance layer re-initializes itself after."""
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=0.02)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Embedding) and module.embedding_dim > 1:
            nn.init.normal_(module.weight, std=0.02)
            if module.padding_idx is not None:
                nn.init.zeros_(module.weight[module.padding_idx])

    def forward(
        self,
        atomic_numbers: Tensor,
        coords: Tensor,
        solvent_class: Tensor,
        features: Tensor | None = None,
        topology: Tensor | None = None,
        with_log_std: bool = False,
    ) -> Tensor | tuple[Tensor, Tensor]:
        """
        Parameters
        ----------
        atomic_numbers
            Long tensor ``B x N``; 0 marks padding.
        coords
            Cartesian coordinates in Angstrom, ``B x N x 3``.
        solvent_class
            Long tensor ``B`` indexing :data:`litshift.chem.solvents.SOLVENT_CLASSES`.
        features
            Long ``B x N x F`` atom categories (:func:`litshift.chem.graph.atom_features`);
            required when the model uses ``atom_features``, ignored otherwise.
        topology
            Long ``B x N x N`` bond counts; required for ``topology_bias``, ignored otherwise.
        with_log_std
            Also return the uncertainty head's output (only for ``uncertainty="gaussian"``).

        Returns
        -------
        Tensor | tuple[Tensor, Tensor]
            Normalized shift predictions ``B x N x K`` (K = number of nuclei); values at padded
            atoms are finite but meaningless. With ``with_log_std``, also the log standard
            deviation ``B x N x K`` in the same normalized units.
        """
        if with_log_std and self.config.uncertainty != "gaussian":
            raise ValueError("this model has no uncertainty head (uncertainty='none')")
        B, N = atomic_numbers.shape
        if N > self.config.max_atoms:
            raise ValueError(f"{N} atoms exceed max_atoms={self.config.max_atoms}")
        types = atomic_numbers.clamp(0, self.config.n_atom_types - 1)  # (B, N)
        source = None
        if self.config.implicit_hydrogens:
            if features is None or topology is None:
                raise ValueError("implicit_hydrogens needs the features and topology inputs")
            types, coords, features, topology, source = _heavy_atoms(
                types, coords, features, topology
            )
            B, N = types.shape
        # Zero padded coordinates: NaN there would reach real atoms as 0 * NaN in attn @ v.
        coords = coords.masked_fill((types == 0)[..., None], 0.0)  # (B, N, 3)
        diff = coords[:, :, None, :] - coords[:, None, :, :]  # (B, N, N, 3)
        # Explicit distances: cdist switches to a matmul formula that loses precision.
        dist = diff.pow(2).sum(-1).clamp_min(1e-12).sqrt()  # (B, N, N)
        # Pairs with padding get distance 0, so even the (ignored) padded outputs are invariant.
        padded = types == 0  # (B, N)
        dist = dist.masked_fill(padded[:, :, None] | padded[:, None, :], 0.0)  # (B, N, N)
        atom_bias = self.distance_bias(dist, types)  # (B, H, N, N)
        if self.config.topology_bias:
            if topology is None:
                raise ValueError("this model needs the topology input (topology_bias=True)")
            hops = topology.clamp(0, MAX_TOPOLOGY + 1)  # (B, N, N)
            atom_bias = atom_bias + self.topology_embed(hops).permute(0, 3, 1, 2)
        pair = F.pad(atom_bias, (1, 0, 1, 0))  # (B, H, N+1, N+1); [CLS] at index 0
        cls_bias = self.cls_pair_bias.view(1, -1, 1).to(pair.dtype)  # (1, H, 1)
        pair[:, :, 0, :] = cls_bias
        pair[:, :, :, 0] = cls_bias

        cls = self.cls_token.expand(B, -1)  # (B, D)
        if self.config.solvent_mode == "cls":
            cls = cls + self.solvent_embed(solvent_class)  # (B, D)
        tokens = self.atom_embed(types)  # (B, N, D)
        if self.config.atom_features:
            if features is None:
                raise ValueError("this model needs the atom features input (atom_features=True)")
            categories = features + self.feature_offsets  # (B, N, F)
            tokens = tokens + self.feature_embed(categories).sum(-2) * (types > 0)[..., None]
        x = torch.cat([cls[:, None, :], tokens], dim=1)  # (B, N+1, D)
        x = self.embed_dropout(x)
        key_padding = F.pad(types == 0, (1, 0), value=False)  # (B, N+1)

        for block in self.blocks:
            x, pair = block(x, pair, key_padding)  # (B, N+1, D), (B, H, N+1, N+1)
        atoms = self.ln_final(x[:, 1:])  # (B, N, D)
        pred = torch.cat([head(atoms) for head in self.heads], dim=-1)  # (B, N, K)
        if self.config.solvent_mode == "global_bias":
            pred = pred + self.solvent_offset(solvent_class)[:, None, :]  # (B, N, K)
        # detached: the NLL trains this head only, never the features the mean is read from
        log_std = (
            torch.cat([head(atoms.detach()) for head in self.scale_heads], dim=-1)
            if with_log_std
            else None
        )
        if source is not None:  # the heads ran on the tokens (half the rows); every atom now
            # reads its token's outputs: its own, or its H's heavy atom
            pred = _unpack(pred, source)  # (B, N_atoms, K)
            log_std = None if log_std is None else _unpack(log_std, source)
        return pred if log_std is None else (pred, log_std)

    @torch.no_grad()
    def set_target_scaler(self, mean: Tensor, std: Tensor) -> None:
        """Store the per-nucleus z-score (ppm) fitted on the labeled training shifts."""
        mean = torch.as_tensor(mean, dtype=self.shift_mean.dtype)
        std = torch.as_tensor(std, dtype=self.shift_std.dtype)
        if mean.shape != self.shift_mean.shape or std.shape != self.shift_std.shape:
            raise ValueError(f"scaler needs shape {tuple(self.shift_mean.shape)}")
        if not bool(torch.all(std > 0)):
            raise ValueError("target std must be positive")
        self.shift_mean.copy_(mean)
        self.shift_std.copy_(std)

    def to_ppm(self, pred: Tensor) -> Tensor:
        """Normalized predictions ``... x K`` -> ppm."""
        return pred * self.shift_std + self.shift_mean

    def std_to_ppm(self, log_std: Tensor) -> Tensor:
        """Normalized log standard deviations ``... x K`` -> standard deviations in ppm."""
        return log_std.exp() * self.shift_std

    def mean_parameters(self) -> list[nn.Parameter]:
        """Every parameter but the uncertainty head's (clipped apart, so the head cannot change
        the mean's updates)."""
        scale = {id(p) for p in self.scale_heads.parameters()} if self.has_scale_head else set()
        return [p for p in self.parameters() if id(p) not in scale]

    @property
    def has_scale_head(self) -> bool:
        return self.config.uncertainty == "gaussian"

    def normalize(self, shifts_ppm: Tensor, nucleus_index: int) -> Tensor:
        """ppm shifts of one nucleus (any shape) -> normalized units."""
        return (shifts_ppm - self.shift_mean[nucleus_index]) / self.shift_std[nucleus_index]

    def configure_optimizer(
        self,
        lr: float,
        weight_decay: float,
        betas: tuple[float, float] = (0.9, 0.99),
        eps: float = 1e-6,
    ) -> torch.optim.AdamW:
        """AdamW decaying only Linear weight matrices (not biases, norms, embeddings, kernels)."""
        decay_ids = {id(m.weight) for m in self.modules() if isinstance(m, nn.Linear)}
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [
            {"params": [p for p in params if id(p) in decay_ids], "weight_decay": weight_decay},
            {"params": [p for p in params if id(p) not in decay_ids], "weight_decay": 0.0},
        ]
        return torch.optim.AdamW(groups, lr=lr, betas=betas, eps=eps)

    @classmethod
    def from_preset(cls, name: str, **overrides: object) -> ShiftTransformer:
        """Build a named preset, optionally overriding fields (e.g. ``solvent_mode``)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}; choose from {sorted(PRESETS)}")
        return cls(replace(PRESETS[name], **overrides))
