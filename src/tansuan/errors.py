"""The one exception tree of tansuan.

Every error tansuan raises on purpose is a ``TansuanError``. Where an error is
also a kind of builtin error, it subclasses that builtin too, so callers that
know nothing of tansuan can still catch ``ValueError`` or ``KeyError``::

    TansuanError
    ├── InputError (ValueError)            bad input from a user, a file or a device
    │   ├── UnitError                      unknown unit or wrong dimension
    │   ├── MissingParameter               a required parameter is absent
    │   ├── GwpSetMismatch                 two GWP sets mixed in one inventory
    │   ├── ValidationFailed               a document failed validation (carries issues)
    │   ├── UnsupportedMediaType           an upload's type is not accepted, or its bytes
    │   │                                  are not of the type it declares
    │   ├── PayloadTooLarge                an upload is larger than the limit
    │   └── UnprocessableInput             well-formed input that names nothing usable
    ├── UnknownFactor (KeyError)           no reference-table row for a key/date/region
    ├── ReferenceDataError                 a shipped table is malformed or lacks provenance
    ├── ConfigError                        settings or site model cannot be used
    ├── StoreError                         the database refused or failed
    ├── ProtocolError (ValueError)         a gateway received something it cannot decode
    ├── LedgerError                        the tamper-evident log cannot do what was asked
    │   └── VerificationFailed             a proof or a recomputation does not hold
    ├── NotFound (LookupError)             the thing asked for does not exist (or is not visible)
    └── PermissionDenied                   the caller may not do this

Library exceptions (SQLAlchemy, pymodbus, asyncua, …) are translated into this
tree at the adapter that calls the library. HTTP responses are made from these
errors in exactly one handler in ``tansuan.web``; nothing else imports FastAPI.

Every error can name the *field* it concerns (``error.field``), e.g.
``sources[2].amount``, so a user can find the problem in the file.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TansuanError(Exception):
    """Base of every error tansuan raises on purpose."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}" if field else message)


class InputError(TansuanError, ValueError):
    """Bad input from a user, a file or a device."""


class UnitError(InputError):
    """A unit is unknown or has the wrong dimension for the field."""


class MissingParameter(InputError):
    """A required parameter is absent and no default exists."""


class GwpSetMismatch(InputError):
    """Two different GWP sets would be mixed in one inventory."""


class UnsupportedMediaType(InputError):
    """An uploaded file's type is not accepted, or its bytes are not of the declared type."""


class PayloadTooLarge(InputError):
    """An uploaded file is larger than the configured limit."""


class UnprocessableInput(InputError):
    """The input is well formed but cannot be used: a missing or unknown target, an empty
    file, an unusable name."""


@dataclass(frozen=True)
class Issue:
    """One problem found by a validation: a stable code, where, and what.

    ``code`` is stable across versions so tools can filter on it;
    ``path`` locates the problem in the document (``sites[0].devices[3].id``).
    """

    code: str
    path: str
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail} [{self.code}]"


class ValidationFailed(InputError):
    """A document failed validation; ``issues`` lists every problem found."""

    def __init__(self, issues: Sequence[Issue], *, what: str = "document") -> None:
        self.issues = tuple(issues)
        lines = "\n".join(f"  - {issue}" for issue in self.issues)
        super().__init__(f"{what} has {len(self.issues)} problem(s):\n{lines}")


class UnknownFactor(TansuanError, KeyError):
    """No reference-table row matches the key, date and region asked for."""

    def __str__(self) -> str:  # KeyError would otherwise repr() the message
        return self.args[0] if self.args else self.message


class ReferenceDataError(TansuanError):
    """A shipped reference table is malformed or lacks provenance."""


class ConfigError(TansuanError):
    """Settings or the site model cannot be used as given."""


class StoreError(TansuanError):
    """The database refused or failed an operation."""


class ProtocolError(TansuanError, ValueError):
    """A gateway received bytes it cannot decode or must reject."""


class LedgerError(TansuanError):
    """The tamper-evident log cannot do what was asked."""


class VerificationFailed(LedgerError):
    """A proof, signature or recomputation does not hold."""


class NotFound(TansuanError, LookupError):
    """The thing asked for does not exist, or is not visible to the caller."""

    def __str__(self) -> str:
        return self.args[0] if self.args else self.message


class PermissionDenied(TansuanError):
    """The caller is not allowed to do this."""
