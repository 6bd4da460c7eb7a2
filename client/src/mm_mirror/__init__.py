"""mm-mirror: the edge of a mirrormanager network (installers and mirror operators)."""

__version__ = "0.1.0"
USER_AGENT = f"mm-mirror/{__version__}"
