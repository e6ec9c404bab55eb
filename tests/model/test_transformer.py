"""Symmetries, padding, solvent modes, scaler and optimizer of the shift transformer."""

from __future__ import annotations

import math

import pytest
import torch
from rdkit import Chem
from rdkit.Chem import AllChem
from torch import nn

from litshift.model.transformer import PRESETS, ShiftTransformer
from litshift.train.losses import gaussian_nll
from tests.model.small_models import small_config

SMILES = ("CCO", "Cc1ccccc1", "CC(=O)Nc1ccc(O)cc1", "ClC(Cl)Cl")


def conformer(smiles: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Atomic numbers and ETKDG coordinates in litshift atom order."""
    mol = Chem.AddHs(Chem.MolFromSmiles(Chem.CanonSmiles(smiles)))
    assert AllChem.EmbedMolecule(mol, randomSeed=7) == 0
    z = torch.tensor([a.GetAtomicNum() for a in mol.GetAtoms()])
    xyz = torch.tensor(mol.GetConformer().GetPositions(), dtype=torch.float32)
    return z, xyz


def batch(smiles: tuple[str, ...], pad_to: int | None = None):
    """Zero-padded batch ``(z (B, N), xyz (B, N, 3), n_atoms)``."""
    mols = [conformer(s) for s in smiles]
    n = pad_to or max(len(z) for z, _ in mols)
    z = torch.zeros(len(mols), n, dtype=torch.long)
    xyz = torch.zeros(len(mols), n, 3)
    for i, (zi, xi) in enumerate(mols):
        z[i, : len(zi)], xyz[i, : len(zi)] = zi, xi
    return z, xyz, [len(zi) for zi, _ in mols]


@pytest.fixture(scope="module")
def model() -> ShiftTransformer:
    torch.manual_seed(0)
    return ShiftTransformer(small_config()).eval()


def random_rotation(generator: torch.Generator) -> torch.Tensor:
    q, r = torch.linalg.qr(torch.randn(3, 3, generator=generator))
    q = q * torch.sign(torch.diagonal(r))
    return q if torch.det(q) > 0 else -q


def test_output_shape_and_presets():
    z, xyz, _ = batch(SMILES[:2])
    out = ShiftTransformer(small_config())(z, xyz, torch.tensor([0, 1]))
    assert out.shape == (2, z.shape[1], 2)
    paper = PRESETS["paper"]
    assert (paper.n_layers, paper.n_heads, paper.d_model, paper.n_kernels) == (15, 64, 512, 128)
    assert paper.d_ffn == 2048 and paper.dropout == 0.1


def test_rotation_translation_invariance(model):
    z, xyz, _ = batch(SMILES)
    solvent = torch.tensor([0, 1, 2, 0])
    generator = torch.Generator().manual_seed(1)
    rotation = random_rotation(generator)
    moved = xyz @ rotation.T + torch.randn(1, 1, 3, generator=generator) * 10
    with torch.no_grad():
        torch.testing.assert_close(
            model(z, moved, solvent), model(z, xyz, solvent), atol=1e-4, rtol=0
        )


def test_permuting_atoms_permutes_outputs(model):
    z, xyz, _ = batch(("CC(=O)Nc1ccc(O)cc1",))
    perm = torch.randperm(z.shape[1], generator=torch.Generator().manual_seed(2))
    solvent = torch.tensor([1])
    with torch.no_grad():
        out = model(z, xyz, solvent)
        out_perm = model(z[:, perm], xyz[:, perm], solvent)
    torch.testing.assert_close(out_perm, out[:, perm], atol=1e-5, rtol=0)


def test_padding_does_not_change_outputs(model):
    z, xyz, n_atoms = batch(SMILES)
    z_pad, xyz_pad, _ = batch(SMILES, pad_to=z.shape[1] + 13)
    garbage = 1e3 * torch.randn_like(xyz_pad[z_pad == 0])
    garbage[::2] = float("nan")
    xyz_pad[z_pad == 0] = garbage
    solvent = torch.tensor([0, 1, 2, 0])
    with torch.no_grad():
        out, out_pad = model(z, xyz, solvent), model(z_pad, xyz_pad, solvent)
    for i, n in enumerate(n_atoms):
        torch.testing.assert_close(out_pad[i, :n], out[i, :n], atol=1e-5, rtol=0)


def test_fully_padded_rows_stay_finite_in_forward_and_backward():
    torch.manual_seed(0)
    net = ShiftTransformer(small_config())
    z, xyz, _ = batch(("CCO",), pad_to=12)
    z = torch.cat([z, torch.zeros_like(z)])  # second molecule: nothing but padding
    xyz = torch.cat([xyz, torch.zeros_like(xyz)])
    out = net(z, xyz, torch.tensor([0, 2]))
    assert torch.isfinite(out).all()
    out[0, :9].sum().backward()
    assert all(torch.isfinite(p.grad).all() for p in net.parameters() if p.grad is not None)


def test_solvent_modes_act_as_designed():
    z, xyz, _ = batch(("Cc1ccccc1",))
    cdcl3, dmso = torch.tensor([0]), torch.tensor([1])
    torch.manual_seed(0)
    with torch.no_grad():
        cls_model = ShiftTransformer(small_config(solvent_mode="cls")).eval()
        assert not torch.allclose(cls_model(z, xyz, cdcl3), cls_model(z, xyz, dmso), atol=1e-6)

        none_model = ShiftTransformer(small_config(solvent_mode="none")).eval()
        assert torch.equal(none_model(z, xyz, cdcl3), none_model(z, xyz, dmso))
        assert not any("solvent" in name for name, _ in none_model.named_parameters())

        bias_model = ShiftTransformer(small_config(solvent_mode="global_bias")).eval()
        assert torch.equal(bias_model(z, xyz, cdcl3), bias_model(z, xyz, dmso))  # zero at init
        bias_model.solvent_offset.weight.copy_(torch.tensor([[0.0, 0.0], [0.5, -2.0], [0, 0]]))
        delta = bias_model(z, xyz, dmso) - bias_model(z, xyz, cdcl3)  # (1, N, K)
        torch.testing.assert_close(delta, torch.tensor([0.5, -2.0]).expand_as(delta))


def test_invalid_configs_and_sizes_are_rejected():
    with pytest.raises(ValueError, match="solvent_mode"):
        small_config(solvent_mode="embedding")
    with pytest.raises(ValueError, match="divisible"):
        small_config(n_heads=5)
    net = ShiftTransformer(small_config(max_atoms=4))
    with pytest.raises(ValueError, match="max_atoms"):
        net(torch.ones(1, 5, dtype=torch.long), torch.zeros(1, 5, 3), torch.tensor([0]))
    with pytest.raises(ValueError, match="unknown preset"):
        ShiftTransformer.from_preset("huge")


def test_scaler_round_trip_and_state_dict():
    net = ShiftTransformer(small_config())
    net.set_target_scaler(torch.tensor([4.0, 90.0]), torch.tensor([2.5, 50.0]))
    ppm = torch.tensor([[[7.26, 77.16], [1.2, 14.0]]])  # (B, N, K)
    normalized = torch.stack([net.normalize(ppm[..., k], k) for k in range(2)], dim=-1)
    torch.testing.assert_close(net.to_ppm(normalized), ppm)
    restored = ShiftTransformer(small_config())
    restored.load_state_dict(net.state_dict())
    torch.testing.assert_close(restored.shift_std, torch.tensor([2.5, 50.0]))
    with pytest.raises(ValueError, match="positive"):
        net.set_target_scaler(torch.zeros(2), torch.tensor([1.0, 0.0]))


def test_optimizer_decays_only_linear_weights():
    net = ShiftTransformer(small_config())
    optimizer = net.configure_optimizer(lr=1e-3, weight_decay=0.05)
    decay, no_decay = optimizer.param_groups
    assert decay["weight_decay"] == 0.05 and no_decay["weight_decay"] == 0.0
    assert optimizer.defaults["betas"] == (0.9, 0.99) and optimizer.defaults["eps"] == 1e-6
    linear_weights = {id(m.weight) for m in net.modules() if isinstance(m, nn.Linear)}
    assert {id(p) for p in decay["params"]} == linear_weights
    grouped = [id(p) for group in optimizer.param_groups for p in group["params"]]
    assert sorted(grouped) == sorted(id(p) for p in net.parameters())  # each exactly once
    assert id(net.atom_embed.weight) in {id(p) for p in no_decay["params"]}


def test_tiny_model_overfits_a_few_molecules():
    """Gasteiger charges are a learnable per-atom function of the structure."""
    torch.manual_seed(0)
    z, xyz, n_atoms = batch(SMILES)
    target = torch.zeros(z.shape)
    for i, smiles in enumerate(SMILES):
        mol = Chem.AddHs(Chem.MolFromSmiles(Chem.CanonSmiles(smiles)))
        AllChem.ComputeGasteigerCharges(mol)
        charges = [a.GetDoubleProp("_GasteigerCharge") for a in mol.GetAtoms()]
        target[i, : n_atoms[i]] = torch.tensor(charges) * 10
    mask = z > 0
    net = ShiftTransformer(small_config(nuclei=("q",)))
    optimizer = net.configure_optimizer(lr=3e-3, weight_decay=0.0)
    solvent = torch.zeros(len(SMILES), dtype=torch.long)

    def loss_now() -> torch.Tensor:
        return (net(z, xyz, solvent)[..., 0] - target)[mask].abs().mean()

    initial = loss_now().item()
    for _ in range(150):
        optimizer.zero_grad()
        loss = loss_now()
        loss.backward()
        optimizer.step()
    assert math.isfinite(loss.item())
    assert loss_now().item() < 0.3 * initial  # ~0.17 in practice; per-element mean: ~0.45


def test_uncertainty_head_leaves_the_mean_and_its_gradients_alone() -> None:
    z, xyz, _ = batch(SMILES[:2])
    solvent = torch.tensor([0, 1])
    torch.manual_seed(3)
    plain = ShiftTransformer(small_config())
    torch.manual_seed(3)
    headed = ShiftTransformer(small_config(uncertainty="gaussian"))
    # the head is built from a forked RNG: the mean's initial weights are the same
    for name, value in plain.state_dict().items():
        assert torch.equal(value, headed.state_dict()[name]), name
    pred, log_std = headed(z, xyz, solvent, with_log_std=True)
    assert torch.equal(pred, plain(z, xyz, solvent)) and log_std.shape == pred.shape
    # an NLL on any residual moves the head only (features and residual are detached)
    target = torch.randn_like(pred)
    mask = torch.ones_like(pred, dtype=torch.bool)
    gaussian_nll(pred - target, log_std, mask).backward()
    scale = {id(p) for p in headed.scale_heads.parameters()}
    for p in headed.mean_parameters():
        assert p.grad is None or not p.grad.any()
    assert all(p.grad is not None and p.grad.any() for p in headed.parameters() if id(p) in scale)
    assert len(headed.mean_parameters()) == len(list(plain.parameters()))
    with pytest.raises(ValueError, match="no uncertainty head"):
        plain(z, xyz, solvent, with_log_std=True)
    with pytest.raises(ValueError, match="uncertainty must be"):
        small_config(uncertainty="quantile")


def _graph_inputs(smiles: str) -> tuple[torch.Tensor, torch.Tensor]:
    """Atom categories ``(1, N, F)`` and bond counts ``(1, N, N)`` in litshift atom order."""
    from litshift.chem.graph import molecular_graph

    graph = molecular_graph(Chem.CanonSmiles(smiles))
    features = torch.from_numpy(graph.features.astype("int64"))[None]
    topology = torch.from_numpy(graph.topology.astype("int64"))[None]
    return features, topology


def test_graph_inputs_keep_the_symmetries_and_are_required() -> None:
    torch.manual_seed(0)
    net = ShiftTransformer(small_config(atom_features=True, topology_bias=True)).eval()
    with torch.no_grad():  # the topology bias starts at zero: give it values to matter
        net.topology_embed.weight.normal_()
    smiles = "CC(=O)Nc1ccc(O)cc1"
    z, xyz, _ = batch((smiles,))
    features, topology = _graph_inputs(smiles)
    solvent = torch.tensor([0])
    perm = torch.randperm(z.shape[1], generator=torch.Generator().manual_seed(3))
    rotation = random_rotation(torch.Generator().manual_seed(4))
    with torch.no_grad():
        out = net(z, xyz, solvent, features, topology)
        moved = net(z, xyz @ rotation.T + 2.0, solvent, features, topology)
        permuted = net(
            z[:, perm], xyz[:, perm], solvent, features[:, perm], topology[:, perm][:, :, perm]
        )
        no_topology = net(z, xyz, solvent, features, torch.zeros_like(topology))
        plain_features = net(z, xyz, solvent, torch.ones_like(features), topology)
    torch.testing.assert_close(moved, out, atol=1e-4, rtol=0)
    torch.testing.assert_close(permuted, out[:, perm], atol=1e-5, rtol=0)
    assert not torch.allclose(no_topology, out, atol=1e-4)  # both inputs reach the output
    assert not torch.allclose(plain_features, out, atol=1e-4)
    with pytest.raises(ValueError, match="atom features"):
        net(z, xyz, solvent, None, topology)
    with pytest.raises(ValueError, match="topology"):
        net(z, xyz, solvent, features, None)


def test_implicit_hydrogens_give_each_h_its_heavy_atoms_outputs() -> None:
    """Bonded H read their heavy atom's token; the outputs keep the model's symmetries and
    do not depend on the H coordinates or on padding."""
    torch.manual_seed(0)
    net = ShiftTransformer(
        small_config(
            atom_features=True, topology_bias=True, implicit_hydrogens=True, uncertainty="gaussian"
        )
    ).eval()
    smiles = ("CCO", "Cc1ccccc1", "[H][H]")
    z, xyz, sizes = batch(smiles, pad_to=20)
    graphs = [_graph_inputs(s) for s in smiles]
    features = torch.zeros(len(smiles), 20, graphs[0][0].shape[-1], dtype=torch.long)
    topology = torch.zeros(len(smiles), 20, 20, dtype=torch.long)
    for i, (f, t) in enumerate(graphs):
        n = sizes[i]
        features[i, :n], topology[i, :n, :n] = f[0], t[0]
    solvent = torch.tensor([0, 1, 2])
    with torch.no_grad():
        out, log_std = net(z, xyz, solvent, features, topology, with_log_std=True)
        h_moved = xyz.clone()
        h_moved[z == 1] += 0.3  # the H positions are not read...
        moved = net(z, h_moved, solvent, features, topology)
        alone = net(
            z[:1, : sizes[0]],
            xyz[:1, : sizes[0]],
            solvent[:1],
            features[:1, : sizes[0]],
            topology[:1, : sizes[0], : sizes[0]],
        )
        rotation = random_rotation(torch.Generator().manual_seed(5))
        rotated = net(z, xyz @ rotation.T + 1.0, solvent, features, topology)
    ethanol = Chem.AddHs(Chem.MolFromSmiles("CCO"))
    for atom in ethanol.GetAtoms():  # ...but each H has its heavy atom's outputs
        if atom.GetAtomicNum() == 1:
            parent = atom.GetNeighbors()[0].GetIdx()
            torch.testing.assert_close(out[0, atom.GetIdx()], out[0, parent])
            torch.testing.assert_close(log_std[0, atom.GetIdx()], log_std[0, parent])
    assert not torch.allclose(out[0, 0], out[0, 1], atol=1e-4)  # CH3 and CH2 differ
    torch.testing.assert_close(moved, out, atol=1e-5, rtol=0)
    torch.testing.assert_close(alone, out[:1, : sizes[0]], atol=1e-5, rtol=0)
    torch.testing.assert_close(rotated, out, atol=1e-4, rtol=0)
    assert torch.isfinite(out[2, :2]).all()  # H2 has no heavy atom: its H stay tokens
    with pytest.raises(ValueError, match="implicit_hydrogens needs"):
        small_config(implicit_hydrogens=True)
