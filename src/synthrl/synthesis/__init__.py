"""Synthetic samples: parsing the instructor's replies (`jsonparse`, `samples`), bounded parse
retries (`retry`), the sample pattern artifact (`pattern`), majority-vote labels (`votes`, with
`samples.apply_votes`), the quality filters (`quality`: duplicates and contamination;
`checks`: content checks on inputs; `filters`: the filters as the stages apply them), balance by
design and label counts (`balance`), and the MiniLM sentence embeddings (`embed`)."""
