"""rollout-check: what an RL rollout engine sampled against what the trainer trains on."""
