"""load-check: load each `hf` side many times at once, fresh, and check every load got the same tokenizer."""
