"""Passages, embeddings, the Chroma and lexical indexes, hybrid retrieval and quote selection."""
