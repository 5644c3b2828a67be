"""The embedded platform's demo credentials (`make run`, `make test`, `make bench`).

They are in this repository, so anyone can use them: shared.secrets_check refuses every one of them
outside the embedded platform. deploy/local/platform.py issues the keys; the services only need
to recognise them.
"""

from __future__ import annotations

from shared.identity import credit_check_char

# The embedded platform's environment (POINTS_ENVIRONMENT); anything else is a real deployment.
EMBEDDED = "embedded"

DEMO_SALT = "local-demo-salt"

# The employer of every demo holder with n % 7 == 0: services.verification.seed.demo_credit_code(0).
DEMO_EMPLOYER = "91330100MA2000000" + credit_check_char("91330100MA2000000")

# Per service: (key id, secret, principal, scopes).
DEMO_KEYS = {
    "intake": [
        ("demowindow", "local-demo-window-key", "demo-window", ["window"]),
        ("demoadmin", "local-demo-admin-key", "demo-admin", ["admin"]),
        ("demoemployer", "local-demo-employer-key", "demo-employer", [f"employer:{DEMO_EMPLOYER}"]),
        ("demoguardian", "local-demo-guardian-key", "demo-guardian-channel", ["guardian"]),
        # the verification service's review desk reads materials with this one
        ("demomaterials", "local-demo-materials-key", "verification-review-desk", ["materials:read"]),
    ],
    "verification": [
        ("demopolice", "local-demo-police-key", "demo-police-officer", ["department:police"]),
        ("demosi", "local-demo-si-key", "demo-si-officer", ["department:social_insurance"]),
        # Binjiang district: registers its registry, and its officers decide its items at the desk
        ("demobinjiang", "local-demo-binjiang-key", "demo-binjiang-district", ["module:district:binjiang"]),
        # scoring draws a 模拟积分 campaign's sample from the permit register with this one
        ("democampaigndraws", "local-demo-campaign-draws-key", "scoring-campaigns", ["campaigns:draw"]),
    ],
    "scoring": [
        ("demoreader", "local-demo-reader-key", "demo-reader", ["evaluate"]),
        # the demo window reads the scores of the applications it submitted (same principal as in intake)
        ("demowindowscores", "local-demo-window-scores-key", "demo-window", ["scores:read"]),
        # a department reads its own lines of the scores of applications it answered
        ("demopolicescores", "local-demo-police-scores-key", "demo-police-officer", ["department:police"]),
        # the government service app reads a holder's own score, presenting their ID number
        ("demoserviceapp", "local-demo-service-app-key", "demo-service-app", ["scores:holder"]),
        ("demoscoringadmin", "local-demo-scoring-admin-key", "demo-scoring-admin", ["admin"]),
        ("demobinjiang", "local-demo-binjiang-key", "demo-binjiang-district", ["module:district:binjiang"]),
        # the policy office: simulations of draft rule sets (模拟积分 for the whole city)
        (
            "demopolicy",
            "local-demo-policy-key",
            "demo-policy-office",
            ["simulation", "rules:draft", "rounds:replay", "campaigns:manage"],
        ),
        # a partner app signs a consenting holder up to a campaign
        ("democampaignjoin", "local-demo-campaign-join-key", "demo-service-app", ["campaigns:join"]),
        # publicity's estimate page signs up (and withdraws) a holder who proved who they are there
        ("democampaignpage", "local-demo-campaign-page-key", "publicity-estimate-page", ["campaigns:join"]),
        # an officer replaying a past round sees each person's line-by-line difference too
        (
            "demoreplayofficer",
            "local-demo-replay-officer-key",
            "demo-replay-officer",
            ["rounds:replay", "rounds:officer"],
        ),
    ],
    "publicity": [
        ("democity", "local-demo-city-key", "demo-city-education-bureau", ["module:city"]),
        ("demobinjiang", "local-demo-binjiang-key", "demo-binjiang-district", ["module:district:binjiang"]),
        # the government service app: an applicant asks for a review of their own score
        ("demoserviceapp", "local-demo-service-app-key", "demo-service-app", ["review:request"]),
        ("demoofficer", "local-demo-publicity-officer-key", "demo-publicity-officer", ["publicity:officer"]),
        # scoring reads a round's candidates (application ids) with this one, to replay the round
        ("demoroundcandidates", "local-demo-round-candidates-key", "scoring-round-replay", ["rounds:candidates"]),
    ],
}


# What the embedded platform's stand-in for Binjiang's data platform accepts, and what the platform
# registers as the district's source (`PUT /v1/owners/district:binjiang/source`).
DEMO_BINJIANG_REGISTRY_CREDENTIAL = "local-demo-binjiang-registry-credential"


def demo_key(service: str, key_id: str) -> str:
    for kid, secret, _p, _s in DEMO_KEYS[service]:
        if kid == key_id:
            return f"pk_{kid}_{secret}"
    raise KeyError(key_id)


DEMO_MATERIALS_KEY = demo_key("intake", "demomaterials")
DEMO_ROUND_CANDIDATES_KEY = demo_key("publicity", "demoroundcandidates")
DEMO_CAMPAIGN_DRAWS_KEY = demo_key("verification", "democampaigndraws")
DEMO_CAMPAIGN_JOIN_KEY = demo_key("scoring", "democampaignpage")
