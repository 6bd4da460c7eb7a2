"""The sync engine: reading upstream indexes, downloading into the store, verifying it.

Nothing in this package touches the database: services.py drives it and writes the catalogue
from the main thread.
"""
