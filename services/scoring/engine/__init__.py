"""The scoring engine: rule-set loading, fact derivation, vectorised evaluation, explanation."""

# The engine's own boundary rules, versioned with every score: how months and years are counted
# (30 days a month, 12 months a year, a span's end day not counted), which window ends are
# inclusive (the look-back's first day counted, the cut-off not), how acts and matters are
# grouped. Raise it whenever one of them changes: a score then says which rules of counting made it.
ENGINE_VERSION = "2026.11.1"
