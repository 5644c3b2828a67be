"""A closed round's candidates re-scored at the round's own cut-off (round.closing → round.scored)."""
