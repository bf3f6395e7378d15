"""The HTTP server of ``marquee run``: media-service webhooks, health and metrics."""
