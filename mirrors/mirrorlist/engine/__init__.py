"""The mirrorlist's pure parts: the table, its prefix index, the lookup and ordering, GeoIP and rendering.

Nothing here imports Django models or touches a database: a lookup reads only an immutable Table in memory.
"""
