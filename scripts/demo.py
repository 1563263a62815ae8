"""The README's main job: seeds -> article release -> Label Studio -> annotations -> a loadable HF dataset.

Runs the real `warta` commands against the local Label Studio (started if needed), prints each one,
and ends by loading every config of the exported folder with `datasets.load_dataset`.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "out"
PROJECT = "warta seeds"
WARTA = [sys.executable, "-m", "scripts.cli"]


def run(*args: str) -> None:
    print(f"\n$ warta {shlex.join(args)}", flush=True)
    subprocess.run([*WARTA, *args], cwd=ROOT, check=True)


def main() -> int:
    run("labelstudio", "start", "--port", "8089")
    run("normalize", "seeds", "--out", str(OUT / "articles"))
    run("push", str(OUT / "articles"), "--project", PROJECT)
    run("load-reference", str(OUT / "articles"), "--project", PROJECT)
    run("pull", "--project", PROJECT, "--out", str(OUT / "annotations"))
    run("export", "--articles", str(OUT / "articles"), "--annotations", str(OUT / "annotations"), "--out", str(OUT / "hf"))

    import datasets

    datasets.disable_progress_bars()
    print("\nLoading the exported dataset with datasets.load_dataset:")
    for config in ("articles", "ner", "stance", "annotations"):
        loaded = datasets.load_dataset(str(OUT / "hf"), config, cache_dir=tempfile.mkdtemp(prefix="warta-demo-"))
        print(f"  {config:12} " + ", ".join(f"{split}: {len(rows)} rows" for split, rows in loaded.items()))
    print(f"\nDataset folder: {OUT / 'hf'} (card: {OUT / 'hf' / 'README.md'})")
    print("Label Studio keeps running for annotators: `warta labelstudio status`, `warta labelstudio stop`.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
