"""Errors raised inside the sandbox and turned into the contract's error envelope."""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "Issues", "conflict", "internal_error", "not_found", "validation"]


class ApiError(Exception):
    """An API error: HTTP status, stable code, message, optional details and headers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.headers = headers


def validation(issues: list[dict[str, str]], **extra: Any) -> ApiError:
    """A `422 VALIDATION` carrying `details.issues` (and any extra details)."""
    details: dict[str, Any] = {"issues": issues}
    details.update(extra)
    return ApiError(422, "VALIDATION", "Request validation failed.", details)


def not_found(message: str, details: dict[str, Any] | None = None) -> ApiError:
    """A `404 NOT_FOUND`."""
    return ApiError(404, "NOT_FOUND", message, details)


def internal_error() -> ApiError:
    """A `500 INTERNAL_ERROR`: the sandbox failed where it should not have."""
    return ApiError(500, "INTERNAL_ERROR", "Unexpected sandbox error.")


def conflict(message: str, details: dict[str, Any]) -> ApiError:
    """A `409 CONFLICT` with endpoint-specific details."""
    return ApiError(409, "CONFLICT", message, details)


class Issues:
    """Collects every validation problem of one request before raising once."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[dict[str, str]] = []

    def add(self, path: str, message: str) -> None:
        """Record one problem at `path`."""
        self.items.append({"path": path, "message": message})

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self, **extra: Any) -> None:
        """Raise a 422 listing every problem, if there is one."""
        if self.items:
            raise validation(self.items, **extra)
