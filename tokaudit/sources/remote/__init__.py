"""A side in another Python environment (`python:` on a side): the transport, not a second pipeline.

`protocol` (frames and errors, both ends), `worker` (the child: loads the side with the normal registry and
answers), `client` (the parent's end: start, request, stop, failure lines) and `proxy` (the Tokenizer checks
see, with exactly the remote side's capabilities). `sources.sides.load_side` hands a side with `python:` to
`proxy.load`; nothing above the sources layer knows. Importing this package imports nothing.
"""
