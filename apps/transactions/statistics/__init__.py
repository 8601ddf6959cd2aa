"""Streamers' track records: the figures (``figures``) and reading them (``records``)."""
