"""Publicity's pure rules, and the SMS gateway adapter against a real local HTTP server."""

from __future__ import annotations

import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from services.publicity import domain
from services.publicity.notifier import DeliveryFailed, SmsGatewayNotifier, make_notifier
from services.publicity.settings import PublicitySettings as Settings


def test_one_search_box_reads_an_id_tail_or_a_surname():
    assert domain.parse_search("123x") == domain.Search(id_tail="123X")
    assert domain.parse_search(" 张三 ") == domain.Search(surname="张")
    assert domain.parse_search("12") == domain.Search(surname="1")
    assert domain.parse_search("") == domain.Search()


def test_admission_needs_both_the_quota_and_the_threshold():
    assert domain.admitted(2, 80.0, quota=2, threshold=None)
    assert not domain.admitted(3, 90.0, quota=2, threshold=None)
    assert not domain.admitted(1, 59.5, quota=None, threshold=60)
    assert domain.admitted(1, 60.0, quota=5, threshold=60)


def test_late_and_final_objections_are_refused_with_the_reason():
    domain.objection_window(date(2026, 11, 20), date(2026, 11, 20), final=False)  # the last day still counts
    with pytest.raises(domain.ObjectionRefused) as late:
        domain.objection_window(date(2026, 11, 21), date(2026, 11, 20), final=False)
    assert late.value.status == 409 and "2026-11-20" in late.value.message and late.value.type.endswith("late")
    with pytest.raises(domain.ObjectionRefused) as final:
        domain.objection_window(date(2026, 11, 1), date(2026, 11, 20), final=True)
    assert final.value.type.endswith("list-final")


def test_an_objection_names_items_the_score_counted_and_a_department_verifies():
    lines = [
        {"indicator": "education", "department": "education"},
        {"indicator": "social_insurance", "department": "social_insurance"},
    ]
    assert domain.departments_to_ask(["social_insurance", "education"], lines) == ["education", "social_insurance"]
    with pytest.raises(domain.ObjectionRefused) as bad:
        domain.departments_to_ask(["made_up"], lines)
    assert bad.value.field == "items"


def test_an_objection_may_name_an_item_a_module_owner_answered():
    lines = [{"indicator": "education", "department": "education"}]
    modules = {
        "binjiang-talent": {"owner": "district:binjiang", "owner_items": ["binjiang-talent/key_enterprise"]},
        "settlement": {"owner": "city", "owner_items": []},
    }
    asked = domain.departments_to_ask(["binjiang-talent/key_enterprise", "education"], lines, modules)
    assert asked == ["district:binjiang", "education"]
    for stray in ("settlement/key_enterprise", "xihu-talent/key_enterprise"):
        with pytest.raises(domain.ObjectionRefused):
            domain.departments_to_ask([stray], lines, modules)


def test_candidate_keys_group_one_person_and_reveal_nothing():
    a = domain.candidate_key("330106197001010011", "salt")
    assert a == domain.candidate_key(" 330106197001010011 ", "salt") and "330106" not in a
    assert a != domain.candidate_key("330106197001010011", "other-salt")


def test_the_notification_tells_score_period_and_how_to_object():
    text = domain.notification_text("APP-1", "scored", 96.5, None, (date(2026, 11, 2), date(2026, 11, 10)))
    assert "96.5" in text and "2026-11-10" in text and "异议" in text


class _Gateway(BaseHTTPRequestHandler):
    received: list = []
    status = 202

    def do_POST(self):  # noqa: N802 (the http.server API)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        _Gateway.received.append((self.headers["Authorization"], body))
        self.send_response(_Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


async def test_the_sms_adapter_posts_to_the_gateway_and_reports_failures():
    server = HTTPServer(("127.0.0.1", 0), _Gateway)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/sms"
    notifier = SmsGatewayNotifier(url, "secret-token")
    try:
        await notifier.send("13800000000", "【居住证积分】测试", "APP-1/1")
        assert _Gateway.received == [
            ("Bearer secret-token", {"phone": "13800000000", "text": "【居住证积分】测试", "reference": "APP-1/1"})
        ]
        _Gateway.status = 503
        with pytest.raises(DeliveryFailed, match="503"):
            await notifier.send("13800000000", "x", "APP-1/2")
        with pytest.raises(DeliveryFailed, match="no phone"):
            await notifier.send(None, "x", "APP-1/3")
    finally:
        await notifier.aclose()
        server.shutdown()
    with pytest.raises(ValueError, match="SMS_GATEWAY_URL"):
        make_notifier(Settings(notifier="sms", sms_gateway_url=""))
    assert make_notifier(Settings()).status == "recorded"


SCORE_LINES = [
    {"indicator": "education", "category": "basic", "department": "education", "points": 50.0},
    {"indicator": "volunteering", "category": "bonus", "department": "civil_affairs", "points": 4.0},
    {"indicator": "criminal", "category": "deduction", "department": "police", "points": -150.0},
    {"indicator": "dishonesty", "category": "deduction", "department": "credit", "points": 0.0},
    {"indicator": "serious_crime", "category": "veto", "department": "police", "points": 0.0},
]


def test_the_public_sees_sensitive_deductions_only_as_their_total():
    shown, deductions = domain.public_view(SCORE_LINES)
    assert [line["indicator"] for line in shown] == ["education", "volunteering"]
    assert deductions == -150.0
    assert [line["indicator"] for line in domain.objectable(shown)] == ["education", "volunteering"]


def test_an_objection_from_the_public_cannot_name_a_sensitive_deduction_but_a_review_can():
    with pytest.raises(domain.ObjectionRefused) as bad:
        domain.departments_to_ask(["criminal"], SCORE_LINES, public=True)
    assert bad.value.field == "items" and "criminal" in bad.value.message
    assert domain.departments_to_ask(["criminal"], SCORE_LINES) == ["police"]


def test_a_campaign_invitation_says_what_it_is_that_it_is_voluntary_and_until_when():
    text = domain.invitation_text("2027年积分指标调整模拟", date(2026, 12, 31))
    assert "“2027年积分指标调整模拟”模拟积分调查" in text
    assert "参与自愿" in text and "明确同意" in text and "2026-12-31" in text
    assert not any(c.isascii() and c.isalpha() for c in text)  # Chinese only: no codes or English


def test_an_invitation_with_a_code_names_the_public_page_and_the_code():
    text = domain.invitation_text("2027年积分指标调整模拟", date(2026, 12, 31), "04711230")
    assert "“模拟积分”页面" in text and "验证码04711230" in text and "请勿告诉他人" in text
    assert "参与自愿" in text and "2026-12-31" in text
    assert not any(c.isascii() and c.isalpha() for c in text)


def test_a_code_is_kept_as_a_hash_bound_to_its_campaign():
    code = domain.new_code()
    assert len(code) == domain.CODE_DIGITS and code.isdigit()
    assert domain.code_hash("CMP-1", code) == domain.code_hash("CMP-1", f" {code} ")
    assert domain.code_hash("CMP-1", code) != domain.code_hash("CMP-2", code) and code not in domain.code_hash(
        "CMP-1", code
    )
