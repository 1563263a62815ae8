"""warta's dataset half: raw news dumps -> clean article records -> versioned Parquet releases."""

__version__ = "0.1.0"
