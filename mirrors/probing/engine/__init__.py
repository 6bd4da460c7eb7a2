"""The probes' network code: fetching and classifying one mirror URL, with no database.

The service layer (mirrors.probing.services) gives it the origin's revision history as a RevisionBook and
records what comes back (ProbeOutcome).
"""
