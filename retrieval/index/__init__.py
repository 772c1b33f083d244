"""The passage index: embedders, the vector cache, versioned Chroma collections, ingest,
hybrid search, and the live version that questions are answered from."""
