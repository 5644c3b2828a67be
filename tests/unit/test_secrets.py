"""Secrets outside the embedded platform: given, not the public demo values (shared.secrets_check)."""

from __future__ import annotations

import hashlib

import pytest

from services.verification.seed import demo_credit_code
from shared.demo import DEMO_EMPLOYER, DEMO_MATERIALS_KEY, DEMO_ROUND_CANDIDATES_KEY, DEMO_SALT
from shared.secrets_check import demo_key_hashes, demo_key_problems, refuse_unsafe_secrets, secret_problems
from shared.settings import Settings

REAL_SALT = "k3v9-Zq1x-8Lr2-Pw7m-Tt4c"
REAL_MATERIALS_KEY = "pk_1a2b3c4d5e6f7a8b_Qm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4"


def deployment(**env) -> Settings:
    """Settings as a real deployment reads them: no POINTS_ENVIRONMENT unless given."""
    return Settings(**{"points_environment": "", **env})


def test_embedded_platform_has_the_demo_secrets_and_no_complaint():
    s = Settings(points_environment="embedded")
    assert (s.candidate_key_salt, s.intake_materials_key) == (DEMO_SALT, DEMO_MATERIALS_KEY)
    assert secret_problems(s, "publicity") == [] and secret_problems(s, "verification") == []


def test_a_real_deployment_has_no_default_secrets():
    s = deployment()
    assert s.candidate_key_salt is None and s.intake_materials_key is None


@pytest.mark.parametrize("environment", ["", "production", "staging", "Embedded"])
def test_missing_salt_is_refused_for_publicity_naming_the_variable(environment):
    problems = secret_problems(deployment(points_environment=environment), "publicity")
    assert len(problems) == 1 and problems[0].startswith("CANDIDATE_KEY_SALT is not set")


def test_demo_salt_is_refused_even_when_set_explicitly():
    problems = secret_problems(deployment(candidate_key_salt=DEMO_SALT), "publicity")
    assert len(problems) == 1 and "CANDIDATE_KEY_SALT is the public demo value" in problems[0]


def test_a_short_salt_is_refused():
    problems = secret_problems(deployment(candidate_key_salt="short"), "publicity")
    assert len(problems) == 1 and problems[0].startswith("CANDIDATE_KEY_SALT is shorter than")


def test_verification_needs_its_own_materials_key():
    assert secret_problems(deployment(candidate_key_salt=REAL_SALT), "verification")[0].startswith(
        "INTAKE_MATERIALS_KEY is not set"
    )
    demo = secret_problems(
        deployment(candidate_key_salt=REAL_SALT, intake_materials_key=DEMO_MATERIALS_KEY), "verification"
    )
    assert len(demo) == 1 and "INTAKE_MATERIALS_KEY is the public demo value" in demo[0]
    assert (
        secret_problems(
            deployment(candidate_key_salt=REAL_SALT, intake_materials_key=REAL_MATERIALS_KEY), "verification"
        )
        == []
    )


def test_scorings_replay_key_is_optional_but_never_the_demo_value():
    assert Settings(points_environment="embedded").publicity_candidates_key == DEMO_ROUND_CANDIDATES_KEY
    assert secret_problems(deployment(candidate_key_salt=REAL_SALT), "scoring") == []
    demo = secret_problems(
        deployment(candidate_key_salt=REAL_SALT, publicity_candidates_key=DEMO_ROUND_CANDIDATES_KEY), "scoring"
    )
    assert demo == ["PUBLICITY_CANDIDATES_KEY is the public demo value: set a secret of your own."]


def test_a_service_that_does_not_need_a_secret_still_refuses_its_demo_value():
    assert secret_problems(deployment(candidate_key_salt=REAL_SALT), "verification") == [
        "INTAKE_MATERIALS_KEY is not set: the verification service needs it (give it from a secret store)."
    ]
    problems = secret_problems(
        deployment(
            candidate_key_salt=REAL_SALT,
            intake_materials_key="pk_x_real",
            publicity_candidates_key=DEMO_ROUND_CANDIDATES_KEY,
        ),
        "verification",
    )
    assert len(problems) == 1 and "PUBLICITY_CANDIDATES_KEY" in problems[0]


def test_every_service_that_keys_holders_needs_the_salt():
    # intake makes the pseudonymous holder keys; scoring, publicity and verification (a campaign's
    # draw, services/verification/campaigns.py) match them.
    for service in ("intake", "scoring", "publicity"):
        problems = secret_problems(deployment(), service)
        assert len(problems) == 1 and problems[0].startswith("CANDIDATE_KEY_SALT is not set"), (service, problems)
        assert secret_problems(deployment(candidate_key_salt=REAL_SALT), service) == []
    problems = secret_problems(deployment(intake_materials_key=REAL_MATERIALS_KEY), "verification")
    assert len(problems) == 1 and problems[0].startswith("CANDIDATE_KEY_SALT is not set")


def test_well_configured_publicity_starts():
    assert secret_problems(deployment(candidate_key_salt=REAL_SALT), "publicity") == []


def test_refusal_exits_with_every_problem_in_one_message():
    with pytest.raises(SystemExit) as exc:
        refuse_unsafe_secrets(
            deployment(candidate_key_salt=DEMO_SALT, intake_materials_key=DEMO_MATERIALS_KEY), "verification"
        )
    message = str(exc.value.code)
    assert "CANDIDATE_KEY_SALT" in message and "INTAKE_MATERIALS_KEY" in message
    assert message.startswith("refusing to start (POINTS_ENVIRONMENT=unset")


def test_demo_api_key_found_by_id_and_hash():
    window = hashlib.sha256(b"local-demo-window-key").hexdigest()
    assert demo_key_hashes("intake")["demowindow"] == window
    problems = demo_key_problems({"demowindow": window}, "intake")
    assert len(problems) == 1 and "demowindow" in problems[0] and "shared.keys revoke --service intake" in problems[0]


def test_a_key_that_only_borrows_a_demo_id_is_not_a_demo_key():
    # Its secret is not the public one, so it opens nothing to a reader of this repository.
    assert demo_key_problems({"demowindow": hashlib.sha256(b"a real secret").hexdigest()}, "intake") == []
    assert demo_key_problems({}, "publicity") == []


def test_the_demo_employer_is_the_seed_s_employer():
    assert DEMO_EMPLOYER == demo_credit_code(0)
