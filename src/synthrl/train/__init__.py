"""Training adapters: TRL GRPO / SFT on one machine, veRL export for clusters."""
