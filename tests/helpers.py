"""Small builders shared by tests: paths, and writing a store from a folder."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EXPECTED = Path(__file__).resolve().parent / "expected"
SEED_FILES = sorted(p.name for p in SEEDS.glob("*.txt"))
