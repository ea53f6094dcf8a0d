"""The OpenAPI document matches what the API does: Schemathesis sends what the document
describes (valid and invalid) to every operation and checks each answer against it: no
server error, every status, header and body as documented, invalid input refused.

What a schema cannot say is refused with a documented 4xx by design (a topic that does
not exist, a cursor the API never gave, a reply to a comment that is not there), so the
check that every schema-valid request succeeds is left out."""

from __future__ import annotations

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from discussion.accounts import staff
from discussion.api import document, tokens
from discussion.extensions import db
from discussion.models import CommentState, Role, TokenScope
from tests.helpers import PASSWORD, make_comment, make_publication

EXAMPLES = 12  # per operation: keeps the run inside the normal suite's time


@pytest.fixture
def api_schema(app: Flask) -> schemathesis.BaseSchema:
    """The document, with the stored publication's slug and a live token as examples, so
    the successful paths are exercised as well as the refusals."""
    publication = make_publication(slug="talks-resume")
    root = make_comment(publication)
    make_comment(publication, parent=root, minutes=1)
    pending = make_comment(publication, state=CommentState.PENDING, minutes=2)
    person = staff.create_moderator("desk-tool", PASSWORD, Role.MODERATOR)
    secret = tokens.create(person, person, name="CI", scope=TokenScope.DECIDE).secret
    db.session.commit()
    spec = document.build()
    spec["servers"] = [{"url": "/api/v1"}]
    for item in spec["paths"].values():
        for operation in item.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter["name"] == "slug":
                    parameter["examples"] = {"stored": {"value": publication.slug}}
                if parameter["name"] == "comment_id":
                    parameter["examples"] = {"pending": {"value": pending.id}}
    schema = schemathesis.openapi.from_dict(spec)
    schema.app = app
    app.config["API_TEST_TOKEN"] = secret
    return schema


OPERATIONS = [
    f"{method.upper()} {path}"
    for path, item in document.build()["paths"].items()
    for method in item
    if method != "parameters"
]


@pytest.mark.parametrize("label", OPERATIONS)
def test_every_answer_matches_the_document(
    api_schema: schemathesis.BaseSchema, app: Flask, label: str
) -> None:
    operation = api_schema.find_operation_by_label(label)
    headers = {}
    if operation.definition.raw.get("security"):
        headers["Authorization"] = f"Bearer {app.config['API_TEST_TOKEN']}"

    strategies = [
        *api_schema.get_strategies_from_examples(operation),
        operation.as_strategy(GenerationMode.POSITIVE),
        operation.as_strategy(GenerationMode.NEGATIVE),
    ]

    @given(case=st.one_of(strategies))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: schemathesis.Case) -> None:
        case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

    check()
