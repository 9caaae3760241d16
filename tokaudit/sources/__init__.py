"""Tokenizer sources, one module per library, behind the Tokenizer protocol in `base`.

`registry.SOURCES` names them; `sides.load_sides` loads both sides of a config. This package
imports nothing itself, so config.py can read the registry without importing any source.
"""
