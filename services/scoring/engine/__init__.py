"""The scoring engine: rule-set loading, fact derivation, vectorised evaluation, explanation."""
