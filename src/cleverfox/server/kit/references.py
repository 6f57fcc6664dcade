"""Validation helpers shared by services: references and the errors they raise."""

from __future__ import annotations

from cleverfox.server.kit.errors import FieldError, ValidationFailed


def invalid_reference(attribute: str, what: str | None = None) -> FieldError:
    """A reference to an object that does not exist or that the caller cannot see."""
    noun = what or attribute.removesuffix("Id")
    return FieldError(
        attribute, "invalid_reference", f"{attribute} does not name a {noun} you can use."
    )


def fail_if(errors: list[FieldError]) -> None:
    if errors:
        raise ValidationFailed(errors)


def folded(text: str | None) -> str | None:
    """Case-folded in Python, so both engines compare the same (README §7)."""
    return None if text is None else text.casefold()
