"""Small real modules a config's `object:` / `chat_format:` names, as a team's own pipeline code would be."""
