"""Media services: HTTP clients, payload models and parsers into core ingest records, one module per service."""
