"""The real Tautulli's session fixtures, defined once here so that the modules run by one worker share them."""

from .real_tautulli import tautulli_installer, tautulli_servers

__all__ = ["tautulli_installer", "tautulli_servers"]
