"""Articles: model, loaders, normalisation, dedup and the SQLite article store."""
