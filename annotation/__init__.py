"""warta's annotation half: label schema -> Label Studio (push, pull) -> validated gold -> Hugging Face dataset."""
