"""Simulation (模拟积分 for a whole city): score a population under a baseline and a draft
rule set with the scoring engine itself, and report who gains and who loses."""
