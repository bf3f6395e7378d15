"""The offline answer engine: no network, no key; a router over the tool catalogue."""
