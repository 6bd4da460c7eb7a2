"""The local index proxy: pip, uv and other installers talk to it unchanged; it fails over down the mirror list."""
