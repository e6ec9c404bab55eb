"""litshift: NMR chemical-shift prediction from assigned and unassigned (literature) spectra."""

__version__ = "0.1.0"
