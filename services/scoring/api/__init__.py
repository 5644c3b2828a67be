"""Scoring's REST API, one module per resource; thin: parse, authorise, call a use case, render.

The simulations' routes stay with their sub-domain (simulation/routes.py: jobs, runner and
report belong together), as do a past round's replays (replay/routes.py) and the campaigns
(campaigns/routes.py), and are mounted here with the others.
"""

from services.scoring.api import estimates, modules, rule_sets, scores
from services.scoring.campaigns import routes as campaigns
from services.scoring.replay import routes as replay
from services.scoring.simulation import routes as simulation

ROUTERS = [
    scores.router,
    estimates.router,
    rule_sets.router,
    modules.router,
    simulation.router,
    replay.router,
    campaigns.router,
]
