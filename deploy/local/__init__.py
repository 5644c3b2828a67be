"""The embedded local platform: a throwaway PostgreSQL cluster, the Tansu broker, the four services."""

import os

# Everything run from here (make run, test, bench, the migrations they run in-process) is the
# embedded platform, where the demo secrets apply (shared.secrets_check refuses them elsewhere).
os.environ.setdefault("POINTS_ENVIRONMENT", "embedded")
