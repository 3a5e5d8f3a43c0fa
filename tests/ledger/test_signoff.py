"""The verifier's side of a sign-off: ``tansuan signoff keygen`` and ``sign`` (no database),
and the statement's checks (:mod:`tansuan.ledger.signoff`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tansuan.cli import app
from tansuan.errors import InputError
from tansuan.ledger import signoff

#: A statement as the draft endpoint writes it (canonical: keys sorted, no spaces).
STATEMENT = (
    '{"at":"2026-11-18T02:30:00+00:00","open_findings":1,"opinion":"fairly stated",'
    '"period":"2025","root_hash":"' + "ab" * 32 + '","site":"demo-site","tree_size":42}'
)


def _flat(output: str) -> str:
    """The console's output with its line wrapping undone."""
    return " ".join(output.split())


def test_statement_text_is_the_canonical_json_of_its_fields() -> None:
    text = signoff.statement_text(site="demo-site", period="2025", tree_size=42,
                                  root_hash="ab" * 32, opinion="fairly stated",
                                  open_findings=1, at="2026-11-18T02:30:00+00:00")  # fmt: skip
    assert text == STATEMENT
    assert signoff.parse_statement(STATEMENT)["tree_size"] == 42


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (STATEMENT.replace(",", ", ", 1), "not canonical"),
        (STATEMENT.replace('"tree_size":42', '"tree_size":0'), "tree_size"),
        (STATEMENT.replace('"period":"2025"', '"period":"2025-13"'), "YYYY or YYYY-MM"),
        (STATEMENT.replace("+00:00", ""), "UTC offset"),
        (STATEMENT.replace('"opinion":"fairly stated"', '"opinion":" "'), "opinion"),
        ('{"site":"demo-site"}', "exactly the fields"),
        ("not json", "not JSON"),
    ],
)
def test_a_bad_statement_is_refused_naming_why(text: str, says: str) -> None:
    with pytest.raises(InputError, match=says):
        signoff.parse_statement(text)


def test_keygen_then_sign_gives_a_signature_the_public_key_verifies(tmp_path: Path) -> None:
    runner = CliRunner()
    key = tmp_path / "vera.pem"
    made = runner.invoke(app, ["signoff", "keygen", "--out", str(key)])
    assert made.exit_code == 0, made.output
    public = made.output.split("register it on the grant):")[1].split()[0]
    assert len(public) == 64 and oct(key.stat().st_mode & 0o777) == "0o600"
    again = runner.invoke(app, ["signoff", "keygen", "--out", str(key)])
    assert again.exit_code == 1 and "not overwriting" in _flat(again.output)
    draft = tmp_path / "draft.json"
    draft.write_text(json.dumps({"statement": STATEMENT, "grant_id": 1, "major_open": []}))
    signed = runner.invoke(app, ["signoff", "sign", "--key", str(key), "--statement", str(draft)])
    assert signed.exit_code == 0, signed.output
    body = json.loads(signed.output)
    assert body["statement"] == STATEMENT and body["public_key"] == public
    assert signoff.signature_ok(public, STATEMENT, body["signature"])
    assert not signoff.signature_ok(public, STATEMENT.replace("42", "43"), body["signature"])


def test_sign_refuses_a_statement_that_is_not_canonical(tmp_path: Path) -> None:
    key = tmp_path / "vera.pem"
    signoff.new_key(key)
    loose = tmp_path / "loose.txt"
    loose.write_text(json.dumps(json.loads(STATEMENT), indent=1))
    result = CliRunner().invoke(app, ["signoff", "sign", "--key", str(key), "--statement",
                                      str(loose)])  # fmt: skip
    assert result.exit_code == 1 and "not canonical" in _flat(result.output)
    bad = tmp_path / "bad.pem"
    bad.write_text("not a key")
    result = CliRunner().invoke(app, ["signoff", "sign", "--key", str(bad), "--statement",
                                      str(loose)])  # fmt: skip
    assert result.exit_code == 1 and "not an Ed25519 private key" in _flat(result.output)
