"""Semantic search: library titles embedded through an embeddings endpoint, stored with pgvector."""
