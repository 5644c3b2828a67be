"""A past round replayed under a draft: who the draft would have admitted, who enters, who leaves."""
