from __future__ import annotations

import pytest

from services.databricks.client import check_endpoint_name
from services.databricks.served_names import endpoint_for_served_name
from services.errors import InvalidRequestError


@pytest.mark.parametrize(
    ("served", "endpoint"),
    [
        ("us.anthropic.claude-sonnet-4-5-20250929-v1:0", "databricks-claude-sonnet-4-5"),
        ("anthropic.claude-opus-4-6-v1", "databricks-claude-opus-4-6"),
        ("meta-llama-3.3-70b-instruct-121024", "databricks-meta-llama-3-3-70b-instruct"),
    ],
)
def test_a_served_model_name_points_at_its_endpoint(served: str, endpoint: str) -> None:
    assert endpoint_for_served_name(served) == endpoint
    with pytest.raises(InvalidRequestError) as refused:
        check_endpoint_name(served)
    assert f"probably '{endpoint}'" in refused.value.message and refused.value.param == "model"


def test_other_invalid_names_get_no_guess() -> None:
    assert endpoint_for_served_name("has space") is None
    assert endpoint_for_served_name("x" * 500 + ".y") is None  # too long to be one: not echoed
    with pytest.raises(InvalidRequestError) as refused:
        check_endpoint_name("bad/name")
    assert "served model name" not in refused.value.message
