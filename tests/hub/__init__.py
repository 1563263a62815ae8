"""A local stand-in for the Hugging Face Hub, for tests only (see server.py)."""
