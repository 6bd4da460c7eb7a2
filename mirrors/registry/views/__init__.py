"""Pages of the registry: accounts, the operator's sites and hosts, moderation, the public status."""
