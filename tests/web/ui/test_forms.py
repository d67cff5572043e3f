"""form_errors: a refused form comes back as the API would answer the same error."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import Response

from keyholder.errors import (
    Conflict,
    InvalidInput,
    NotFound,
    PermissionDenied,
    ServiceUnavailable,
    TooManyRequests,
)
from keyholder.web.ui.forms import FormError, form_errors
from keyholder.web.ui.rendering import ShowPage


def shown_for(error: Exception, **options: Any) -> tuple[list[FormError], Response]:
    seen: list[FormError] = []

    def show(refusal: FormError) -> Response:
        seen.append(refusal)
        return Response(f"form again: {refusal.detail}", status_code=refusal.status)

    with pytest.raises(ShowPage) as raised, form_errors(show, **options):
        raise error
    return seen, raised.value.response


class TestFormErrors:
    def test_a_refusal_shows_the_form_at_the_errors_status(self):
        seen, response = shown_for(Conflict("the name is taken"))
        assert seen == [FormError("the name is taken", 409)]
        assert response.status_code == 409
        assert response.body == b"form again: the name is taken"

    def test_the_field_at_fault_is_passed_on(self):
        seen, response = shown_for(InvalidInput("choose one", field="decision"))
        assert seen == [FormError("choose one", 422, "decision")]
        assert seen[0].sentence == "Choose one"
        assert response.status_code == 422

    @pytest.mark.parametrize(
        "error",
        [TooManyRequests("slow down", retry_after=30), ServiceUnavailable("busy", retry_after=30)],
    )
    def test_retry_after_goes_out_as_the_api_sends_it(self, error):
        _, response = shown_for(error)
        assert response.status_code == error.status_code
        assert response.headers["Retry-After"] == "30"

    def test_errors_meant_for_the_error_page_pass_through(self):
        with pytest.raises(NotFound), form_errors(lambda _: Response(), as_error_page=(NotFound,)):
            raise NotFound("no ticket #4")
        with (
            pytest.raises(PermissionDenied),
            form_errors(lambda _: Response(), as_error_page=(PermissionDenied,)),
        ):
            raise PermissionDenied("staff only")

    def test_errors_outside_only_go_to_the_enclosing_form(self):
        def show(where: str) -> Any:
            return lambda refusal: Response(where, status_code=refusal.status)

        for error, where in [(InvalidInput("too short"), b"inner"), (NotFound("gone"), b"outer")]:
            with (
                pytest.raises(ShowPage) as raised,
                form_errors(show("outer")),
                form_errors(show("inner"), only=(InvalidInput,)),
            ):
                raise error
            assert raised.value.response.body == where

    def test_anything_else_is_not_a_form_error(self):
        with pytest.raises(ValueError, match="a bug"), form_errors(lambda _: Response()):
            raise ValueError("a bug")

    def test_nothing_happens_without_an_error(self):
        with form_errors(lambda _: Response()):
            done = True
        assert done
