"""Static publication of collections: pages, data files, repodata and the commit protocol."""
