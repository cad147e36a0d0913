"""Every command form shows its errors as sentences beside the fields (issue 11, Tests)."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from services.console.api_client import Answer, Problem, explain
from services.console.cases.commands import COMMAND_FORMS
from services.console.cases.routes import locate
from services.console.i18n import translate
from services.console.web import template_environment

ENV = template_environment()
FORM = ENV.from_string('{% from "cases/command_form.html" import command_form %}'
                       '{{ command_form(command, spec, values, problem, "tok", "key", "C-1", t) }}')


def render(command: str, problem: Problem, values: dict | None = None) -> str:
    return FORM.render(command=command, spec=COMMAND_FORMS[command], values=values or {}, problem=problem,
                       t=lambda key, **kw: translate("en", key, **kw))


class Fields(HTMLParser):
    """Text of each `data-field` block, and of the form's general problem."""

    def __init__(self):
        super().__init__()
        self.blocks: dict[str, str] = {}
        self.general = ""
        self._stack: list[str | None] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("input", "br", "img", "meta", "link", "hr"):
            return  # void elements have no end tag
        a = dict(attrs)
        name = a.get("data-field") or ("_general" if "problem" in (a.get("class") or "") else None)
        self._stack.append(name if tag in ("div", "p") else None)

    def handle_endtag(self, tag):
        if self._stack:
            self._stack.pop()

    def handle_data(self, data):
        for name in self._stack:
            if name == "_general":
                self.general += data
            elif name:
                self.blocks[name] = self.blocks.get(name, "") + data


def parse(html: str) -> Fields:
    fields = Fields()
    fields.feed(html)
    return fields


@pytest.mark.parametrize("command", COMMAND_FORMS)
def test_each_field_error_is_shown_beside_its_field(command):
    spec = COMMAND_FORMS[command]
    problem = Problem(general=f"Cannot {command} a case that is archived.",
                      fields={i.name: f"{i.name} is not right" for i in spec.inputs})
    html = render(command, problem)
    fields = parse(html)
    assert fields.general.strip() == f"Cannot {command} a case that is archived."
    for i in spec.inputs:
        assert f"{i.name} is not right" in fields.blocks[i.name]
        others = [n for n in fields.blocks if n != i.name]
        assert all(f"{i.name} is not right" not in fields.blocks[o] for o in others)
    assert "{" not in re.sub(r"<[^>]+>", "", html), "raw JSON leaked into the form"
    assert 'name="csrf" value="tok"' in html and f'action="/cases/C-1/{command}"' in html


@pytest.mark.parametrize("command", COMMAND_FORMS)
def test_a_form_without_problems_shows_no_error(command):
    html = render(command, Problem())
    assert 'class="error"' not in html and 'class="problem"' not in html


def test_a_refused_transition_reads_as_a_sentence():
    answer = Answer(409, {"detail": "cannot archive a case that is in_progress", "status": "in_progress",
                          "allowed_commands": ["pause", "complete"]})
    problem = explain(answer)
    assert problem.general == "Cannot archive a case that is in_progress. Allowed now: pause, complete."
    assert problem.fields == {}


def test_intake_field_messages_land_on_the_form_fields():
    answer = Answer(422, {"detail": [
        {"loc": ["body", "charge_lines", 0, "unit_price_fen"], "msg": "Input should be greater than or equal to 0"},
        {"loc": ["body", "result"], "msg": "String should have at least 1 character"},
        {"loc": ["body", "penalty_fen"], "msg": "violations only"}]})
    problem = locate("complete", explain(answer))
    assert problem.fields == {"charge_price_0": "Input should be greater than or equal to 0",
                              "result": "String should have at least 1 character"}
    assert problem.general == "penalty_fen: violations only"
    html = render("complete", problem)
    assert "greater than or equal to 0" in parse(html).blocks["charge_price_0"]


def test_an_unreachable_or_failing_service_is_a_sentence():
    assert explain(Answer(0, {})).general.startswith("The service did not answer")
    assert explain(Answer(500, {"body": "Traceback ..."})).general.startswith("The service failed (500)")
    assert explain(Answer(403, {"detail": "only an estate manager may"})).general == "Only an estate manager may."
