"""Knowledge layer: Chroma store, local embeddings, ingestion and hybrid retrieval."""
