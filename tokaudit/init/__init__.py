"""`tokaudit init`: from a model folder, a GGUF or a cached Hub id to a commented config `tokaudit check` runs.

inspect.py reads what the files hold, choose.py picks the sides, templates and model keys (each with why),
write.py renders the YAML and writes it. No tokenizer is loaded here.
"""
