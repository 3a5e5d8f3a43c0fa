"""The offline verification pack: ``tansuan pack`` writes it from a real store and ledger
(SQLite and PostgreSQL), the pack's own ``check.py`` checks it in a Python process that
cannot import tansuan, and a changed byte in any member is named.

The site-year 2026 of the test site ("site", Asia/Shanghai):

* readings of point ``power`` [kW]: batch A — 2026-03-01T00:00Z 10.0, 00:01Z 20.5,
  00:02Z 30.25; batch B — 2025-12-31T16:30Z (= 2026-01-01 00:30 in Shanghai, so in the
  year) 7.5; batch C — 2025-06-01T00:00Z 5.0 (2025: not in the pack). 4 readings packed.
* manual entries: coal June 4 200 t (INV-06), July 4 900 t then corrected to 5 000 t
  (INV-07 v1, v2), December 2025 3 000 t (not in the pack): 3 entry versions packed.
* results: boiler 2026-06 v1 CO2/scope1 1 000 t; boiler 2026-07 v1 2 000 t, then v2
  2 500 t (inputs changed; v1 superseded); grid 2026-07 v1 CO2/scope2 300 t and
  CH4/scope1 1 000 g = 28 000 g CO2e (GWP 28 written into the test's line, not computed).
  Annual, current versions only: boiler CO2/scope1 1 000 t + 2 500 t = 3 500 t
  (3 500 000 000 g); grid CO2/scope2 300 000 000 g; grid CH4/scope1 1 000 g, 28 000 g
  CO2e; total CO2e 3 500 000 000 + 300 000 000 + 28 000 = 3 800 028 000 g = 3 800.028 t.
* one evidence file (a PDF of the July coal invoice) and one verifier's sign-off of
  2026 over the tree as it stood.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from typer.testing import CliRunner

from tansuan.accounting import results
from tansuan.accounting.results import ResultLine, ResultSet
from tansuan.cli import app
from tansuan.errors import InputError, NotFound
from tansuan.ingest import manual
from tansuan.ingest.ingestor import Ingestor
from tansuan.ledger import pack_check
from tansuan.ledger.canonical import canonical_json
from tansuan.ledger.log import Ledger
from tansuan.ledger.pack import write_pack
from tansuan.platform import ledger_batch_hook, ledger_manual_hook, ledger_result_hook
from tansuan.settings import get_settings
from tansuan.store import Store
from tansuan.store.evidence import FileBlobStore, attach
from tansuan.store.readings import batch_rows

from .conftest import Clock

NOW = dt.datetime(2027, 2, 1, 8, 0, tzinfo=dt.UTC)  # when the pack is written
MINUTE_US = 60_000_000
MAR_1_US = 1_772_323_200_000_000  # 2026-03-01T00:00:00Z
NEW_YEAR_LOCAL_US = 1_767_198_600_000_000  # 2025-12-31T16:30:00Z = 2026-01-01 00:30 +08:00
JUNE_2025_US = 1_748_736_000_000_000  # 2025-06-01T00:00:00Z
PDF = b"%PDF-1.7\n% coal invoice INV-07, July 2026, 5 000 t\n%%EOF\n"
HEADER = ["site", "series", "period_start", "period_end", "value", "unit", "document_ref"]


def _result(source: str, period: str, lines: tuple[ResultLine, ...], coal_t: float) -> ResultSet:
    return ResultSet(
        site_id="site",
        source_id=source,
        period=period,
        method="fuel_combustion" if source == "boiler" else "purchased_electricity",
        lines=lines,
        inputs={"coal_t": coal_t},
        trace={"formula": "AD × EF", "inputs": {"coal_t": coal_t}},
        grade="A",
        coverage=1.0,
        substituted_share=0.0,
    )


def _co2(grams: int, scope: str = "scope1") -> ResultLine:
    return ResultLine("CO2", scope, grams, grams)


class Plant:
    """The test site-year: store, ledger, blob store, verifier key."""

    def __init__(self, store: Store, ledger: Ledger, blobs: FileBlobStore) -> None:
        self.store, self.ledger, self.blobs = store, ledger, blobs
        self.verifier = Ed25519PrivateKey.generate()
        self.batch_rows: Any = None  # the writer's own reading of the store

    def blob(self, sha256: str) -> bytes | None:
        return self.blobs.get(sha256) if self.blobs.exists(sha256) else None

    def pack(self, out: Path) -> dict[str, Any]:
        return write_pack(
            self.store.engine,
            self.ledger,
            site="site",
            year=2026,
            out=out,
            now=NOW,
            batch_rows=self.batch_rows,
            evidence_blob=self.blob,
        )


def _sign_off(plant: Plant) -> None:
    """A verifier's sign-off of 2026 in lane D's shape, over the tree as it stands."""
    ledger, engine = plant.ledger, plant.store.engine
    with engine.begin() as conn:
        size = ledger.tree_size(conn)
        root = ledger.root(conn, size)
    public = plant.verifier.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    statement = canonical_json(
        {
            "site": "site",
            "period": "2026",
            "tree_size": size,
            "root_hash": root.hex(),
            "opinion": "unqualified",
            "open_findings": 0,
            "at": "2027-01-20T10:00:00Z",
        }
    ).decode()
    with engine.begin() as conn:  # the grantor registers the verifier's key on grant 7
        grant_key = {"grant_id": 7, "site": "site", "public_key": public, "by": "admin"}
        ledger.append(conn, "grant_key", "grant/7/verifier_key", grant_key)
    payload = {
        "id": 1,
        "site": "site",
        "period": "2026",
        "verifier": "cqc-verifier",
        "grant_id": 7,
        "public_key": public,
        "statement": statement,
        "signature": plant.verifier.sign(statement.encode()).hex(),
    }
    with engine.begin() as conn:
        ledger.append(conn, "signoff", "signoff/site/2026/1", payload)


@pytest.fixture
def plant(store: Store, tmp_path: Path) -> Iterator[Plant]:
    ledger = Ledger.from_data_dir(tmp_path / "var", clock=Clock())
    blobs = FileBlobStore.for_data_dir(tmp_path / "var")
    plant = Plant(store, ledger, blobs)
    ingestor = Ingestor(store, batch_hooks=[ledger_batch_hook(ledger)])
    ingestor.ingest_columns(
        "site", ["power"] * 3, [MAR_1_US + m * MINUTE_US for m in range(3)], [10.0, 20.5, 30.25]
    )
    ingestor.ingest_columns("site", ["power"], [NEW_YEAR_LOCAL_US], [7.5])
    ingestor.ingest_columns("site", ["power"], [JUNE_2025_US], [5.0])
    hook = ledger_manual_hook(ledger)
    rows = [
        HEADER,
        ["site", "coal", "2026-07", "", "4900", "t", "INV-07"],
        ["site", "coal", "2026-06", "", "4200", "t", "INV-06"],
        ["site", "coal", "2025-12", "", "3000", "t", "INV-12"],
    ]
    manual.import_table(store, rows, kind="fuel", hooks=[hook])
    rows[1][4] = "5000"
    manual.import_table(store, rows[:2], kind="fuel", hooks=[hook])
    result_hook = [ledger_result_hook(ledger)]
    with store.write() as conn:
        results.save(conn, _result("boiler", "2026-06", (_co2(10**9),), 4200.0), hooks=result_hook)
        results.save(
            conn, _result("boiler", "2026-07", (_co2(2 * 10**9),), 4900.0), hooks=result_hook
        )
        results.save(
            conn, _result("boiler", "2026-07", (_co2(2_500_000_000),), 5000.0), hooks=result_hook
        )
        grid = (_co2(300_000_000, "scope2"), ResultLine("CH4", "scope1", 1_000, 28_000))
        results.save(conn, _result("grid", "2026-07", grid, 0.0), hooks=result_hook)
        attach(
            conn,
            ledger=ledger,
            blobs=blobs,
            site="site",
            target_kind="manual_entry",
            target_ref="manual/site/coal/20260701-20260731/v2",
            filename="INV-07.pdf",
            media_type="application/pdf",
            data=PDF,
            by="alice",
            at=dt.datetime(2026, 8, 2, tzinfo=dt.UTC),
        )
    ledger.issue_sth_now(store.engine)
    _sign_off(plant)
    ledger.issue_sth_now(store.engine)
    yield plant


def _csv(archive: zipfile.ZipFile, name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(archive.read(name).decode())))


def test_the_pack_holds_what_the_site_year_logged(plant: Plant, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    manifest = plant.pack(out)
    with zipfile.ZipFile(out) as archive:
        names = set(archive.namelist())
        readings = _csv(archive, pack_check.READINGS_CSV)
        entries = _csv(archive, pack_check.MANUAL_CSV)
        annual = {
            (r["source"], r["gas"], r["scope"]): (int(r["mass_g"]), int(r["co2e_g"]), r["co2e_t"])
            for r in _csv(archive, pack_check.ANNUAL_CSV)
        }
        sets = _csv(archive, pack_check.SETS_CSV)
        assert archive.read("check.py") == Path(pack_check.__file__).read_bytes()
    assert [(r["ts"], r["value"]) for r in readings] == [
        ("2026-03-01T00:00:00Z", "10.0"),
        ("2026-03-01T00:01:00Z", "20.5"),
        ("2026-03-01T00:02:00Z", "30.25"),
        ("2025-12-31T16:30:00Z", "7.5"),
    ]
    assert [(e["document_ref"], e["version"], e["value"]) for e in entries] == [
        ("INV-06", "1", "4200.0"),
        ("INV-07", "1", "4900.0"),
        ("INV-07", "2", "5000.0"),
    ]
    assert [(s["source"], s["period"], s["version"], s["status"]) for s in sets] == [
        ("boiler", "2026-06", "1", "current"),
        ("boiler", "2026-07", "1", "superseded"),
        ("boiler", "2026-07", "2", "current"),
        ("grid", "2026-07", "1", "current"),
    ]
    assert annual == {
        ("boiler", "CO2", "scope1"): (3_500_000_000, 3_500_000_000, "3500.000000"),
        ("grid", "CO2", "scope2"): (300_000_000, 300_000_000, "300.000000"),
        ("grid", "CH4", "scope1"): (1_000, 28_000, "0.028000"),
        ("*", "CO2", "scope1"): (3_500_000_000, 3_500_000_000, "3500.000000"),
        ("*", "CO2", "scope2"): (300_000_000, 300_000_000, "300.000000"),
        ("*", "CH4", "scope1"): (1_000, 28_000, "0.028000"),
        ("*", "*", "*"): (0, 3_800_028_000, "3800.028000"),
    }
    assert f"evidence/{hashlib.sha256(PDF).hexdigest()}" in names
    assert manifest["counts"]["signoff"] == 1 and manifest["counts"]["ingest_batch"] == 2
    assert manifest["counts"]["manual_entry"] == 3 and manifest["counts"]["emission_result"] == 4
    assert set(manifest["files"]) == names - {"manifest.json"}
    assert manifest["created_at"] == "2027-02-01T08:00:00Z"
    report = pack_check.check_pack(str(out))
    assert report.ok, report.problems
    assert report.lines()[-1] == "核查包完整 / pack holds"
    assert any("3800.028000 tCO2e" in line for line in report.lines())


def _run_standalone(pack: Path, workdir: Path) -> subprocess.CompletedProcess[str]:
    """``python check.py pack.zip`` from the pack's own check.py, in a temp dir, in a
    Python that cannot import tansuan (no PYTHONPATH; the package blocked in sys.modules
    in case the interpreter's site-packages has it)."""
    with zipfile.ZipFile(pack) as archive:
        (workdir / "check.py").write_bytes(archive.read("check.py"))
    runner = (
        "import runpy, sys; sys.modules['tansuan'] = None; "
        "sys.argv = ['check.py', sys.argv[1]]; runpy.run_path('check.py', run_name='__main__')"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run(
        [sys.executable, "-c", runner, str(pack)],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_check_py_runs_without_tansuan(plant: Plant, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    plant.pack(out)
    workdir = tmp_path / "verifier"
    workdir.mkdir()
    done = _run_standalone(out, workdir)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "核查包完整 / pack holds"
    for what in ("manifest", "tree heads", "leaves", "readings", "manual entries", "results"):
        assert any(what in line and line.startswith("✓") for line in lines), what
    assert any("sign-offs: 1" in line for line in lines)
    assert any("evidence: 1" in line for line in lines)
    assert any("readings: 4 " in line for line in lines)


def _rewrite(
    pack: Path,
    out: Path,
    edit: Callable[[str, bytes], bytes],
    *,
    fix_manifest: bool,
) -> None:
    """Copy the pack with each member passed through ``edit``; with ``fix_manifest`` the
    manifest's digests are recomputed (an attacker who rewrites the manifest too)."""
    with zipfile.ZipFile(pack) as source:
        members = {name: edit(name, source.read(name)) for name in source.namelist()}
    if fix_manifest:
        manifest = json.loads(members["manifest.json"])
        for name, data in members.items():
            if name != "manifest.json":
                manifest["files"][name] = {
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "bytes": len(data),
                }
        members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as target:
        for name, data in members.items():
            target.writestr(name, data)


def _flip(data: bytes, at: int) -> bytes:
    raw = bytearray(data)
    raw[at] ^= 0x01
    return bytes(raw)


MEMBERS = [
    "manifest.json",
    "README.md",
    "check.py",
    "public_key.pem",
    "sths.jsonl",
    "consistency.jsonl",
    "leaves.jsonl",
    "proofs.jsonl",
    "readings/records.bin",
    "readings/readings.csv",
    "manual/entries.csv",
    "results/sets.csv",
    "results/lines.csv",
    "results/annual.csv",
    "results/traces/",
    "evidence/",
]


@pytest.mark.parametrize("member", MEMBERS)
def test_a_flipped_byte_in_any_member_is_named(plant: Plant, tmp_path: Path, member: str) -> None:
    """One bit of the member's last byte flipped (for the manifest: a digest's digit),
    the zip rewritten with correct CRCs: the member is named and the pack fails."""
    out = tmp_path / "pack.zip"
    plant.pack(out)
    with zipfile.ZipFile(out) as archive:
        target = next(n for n in archive.namelist() if n.startswith(member))
        manifest = json.loads(archive.read("manifest.json"))
    named = target
    if member == "manifest.json":
        named = "readings/readings.csv"  # its digest in the manifest is changed
        digest = manifest["files"][named]["sha256"]

        def edit(name: str, data: bytes) -> bytes:
            if name != "manifest.json":
                return data
            changed = digest[:-1] + ("0" if digest[-1] != "0" else "1")
            return data.replace(digest.encode(), changed.encode())
    else:

        def edit(name: str, data: bytes) -> bytes:
            return _flip(data, len(data) - 2) if name == target else data

    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, edit, fix_manifest=False)
    report = pack_check.check_pack(str(tampered))
    assert not report.ok
    assert any(p.where.startswith(named) for p in report.problems), report.problems
    assert report.lines()[-1].startswith("核查包不完整 / pack does not hold")


def _edit_member(target: str, old: bytes, new: bytes) -> Callable[[str, bytes], bytes]:
    def edit(name: str, data: bytes) -> bytes:
        if name != target:
            return data
        assert old in data, (target, old)
        return data.replace(old, new, 1)

    return edit


@pytest.mark.parametrize(
    ("target", "old", "new", "expected"),
    [
        (
            "readings/readings.csv",
            b",20.5,",
            b",21.5,",
            "reading site/power 2026-03-01T00:01:00Z v1 (line 3): 20.5 N → 21.5 N",
        ),
        (
            "manual/entries.csv",
            b",5000.0,",
            b",4000.0,",
            "value 5000.0 → '4000.0'",
        ),
        (
            "results/lines.csv",
            b"2500000000,2500000000",
            b"2500000000,3500000000",
            "'CO2', 'scope1', 2500000000, 3500000000]] differ from the signed",
        ),
        (
            "results/annual.csv",
            b"3800028000",
            b"3700028000",
            "total CO2e: stated mass 0 g, CO2e 3700028000 g; the signed monthly lines add up "
            "to 0 g, 3800028000 g",
        ),
        (
            "manual/entries.csv",
            b",2,1,5000.0,",
            b",2,0,5000.0,",
            "current version(s) [], expected only v2",
        ),
        (
            "results/sets.csv",
            b",superseded,",
            b",current,",
            "versions ['1', '2'] all marked current",
        ),
    ],
)
def test_a_consistent_rewrite_is_named_with_its_data(
    plant: Plant, tmp_path: Path, target: str, old: bytes, new: bytes, expected: str
) -> None:
    """The attacker rewrites the manifest too, so only the leaves give it away:
    July's reading 20.5 → 21.5 kW; July's coal 5 000 → 4 000 t; boiler July v2
    2 500 t → 3 500 t CO2e; the annual CO2e 3 800.028 t → 3 700.028 t; July's coal v2
    no longer marked current; boiler July v1 marked current beside v2."""
    out = tmp_path / "pack.zip"
    plant.pack(out)
    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, _edit_member(target, old, new), fix_manifest=True)
    report = pack_check.check_pack(str(tampered))
    assert not report.ok
    assert any(expected in str(p) for p in report.problems), report.problems
    assert not any(p.where == "manifest.json" for p in report.problems)


def test_a_forged_signoff_and_a_forged_tree_head_are_named(plant: Plant, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    plant.pack(out)
    with zipfile.ZipFile(out) as archive:
        heads = archive.read("sths.jsonl").decode().splitlines()
        leaves = archive.read("leaves.jsonl").decode()
    first = json.loads(heads[0])
    first["timestamp"] += 1  # the signature no longer covers it
    forged_heads = "\n".join([json.dumps(first), *heads[1:]]) + "\n"
    signoff = next(json.loads(x) for x in leaves.splitlines() if '"signoff"' in x)
    payload = json.loads(signoff["payload"])
    forged_sig = payload["signature"][:-2] + ("00" if payload["signature"][-2:] != "00" else "11")

    def edit(name: str, data: bytes) -> bytes:
        if name == "sths.jsonl":
            return forged_heads.encode()
        if name == "leaves.jsonl":
            return data.replace(payload["signature"].encode(), forged_sig.encode())
        return data

    tampered = tmp_path / "tampered.zip"
    _rewrite(out, tampered, edit, fix_manifest=True)
    problems = [str(p) for p in pack_check.check_pack(str(tampered)).problems]
    assert any("sths.jsonl:1" in p and "signature does not verify" in p for p in problems)
    assert any("leaf hash does not match" in p and "signoff" in p for p in problems)


def _append_signoff(plant: Plant, number: int, statement: dict[str, Any], signer: Any) -> None:
    text = canonical_json(statement).decode()
    public = plant.verifier.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    payload = {
        "id": number,
        "site": "site",
        "period": "2026",
        "verifier": "cqc-verifier",
        "grant_id": 7,
        "public_key": public,
        "statement": text,
        "signature": signer.sign(text.encode()).hex(),
    }
    with plant.store.engine.begin() as conn:
        plant.ledger.append(conn, "signoff", f"signoff/site/2026/{number}", payload)


def test_a_bad_signoff_in_the_log_is_named(plant: Plant, tmp_path: Path) -> None:
    """Three sign-offs logged as they came (their leaves intact): one signed by another
    key than the one it names, one signing a root the log never had, one by a key that is
    not the one registered on its grant."""
    with plant.store.engine.begin() as conn:
        size = plant.ledger.tree_size(conn)
        root = plant.ledger.root(conn, size)
    statement = {
        "site": "site",
        "period": "2026",
        "tree_size": size,
        "root_hash": root.hex(),
        "opinion": "unqualified",
        "open_findings": 0,
        "at": "2027-01-21T10:00:00Z",
    }
    _append_signoff(plant, 2, statement, Ed25519PrivateKey.generate())
    other_root = {**statement, "root_hash": hashlib.sha256(b"another log").hexdigest()}
    _append_signoff(plant, 3, other_root, plant.verifier)
    registered = plant.verifier
    plant.verifier = Ed25519PrivateKey.generate()  # a key nobody registered on grant 7
    _append_signoff(plant, 4, statement, plant.verifier)
    out = tmp_path / "pack.zip"
    plant.pack(out)
    problems = [str(p) for p in pack_check.check_pack(str(out)).problems]
    assert len(problems) == 3, problems
    assert "signoff/site/2026/2" in problems[0]
    assert "the verifier's signature does not verify" in problems[0]
    assert "signoff/site/2026/3" in problems[1]
    assert f"the signed tree (size {size}) is not consistent with the latest head" in problems[1]
    assert "signoff/site/2026/4" in problems[2]
    public = registered.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    assert f"not the one registered on grant 7 ({public})" in problems[2]


def test_the_writer_refuses_bad_requests(plant: Plant, tmp_path: Path) -> None:
    out = tmp_path / "pack.zip"
    out.write_bytes(b"already here")
    with pytest.raises(InputError, match="exists"):
        plant.pack(out)
    assert out.read_bytes() == b"already here"
    with pytest.raises(NotFound, match="no site 'nowhere'"):
        write_pack(
            plant.store.engine,
            plant.ledger,
            site="nowhere",
            year=2026,
            out=tmp_path / "other.zip",
            now=NOW,
            batch_rows=batch_rows,
        )
    assert not (tmp_path / "other.zip").exists()
    assert not (tmp_path / "other.zip.partial").exists()


def test_a_missing_evidence_file_refuses_the_pack(plant: Plant, tmp_path: Path) -> None:
    """Evidence logged but its file gone from the blob store: no pack, the digest named."""
    digest = hashlib.sha256(PDF).hexdigest()
    plant.blobs.path(digest).unlink()
    with pytest.raises(Exception, match=digest):
        plant.pack(tmp_path / "pack.zip")
    assert not (tmp_path / "pack.zip").exists()


@pytest.fixture
def cli_env(plant: Plant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Plant]:
    monkeypatch.setenv("TANSUAN_DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv(
        "TANSUAN_DATABASE_URL", plant.store.engine.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("TANSUAN_NOW", "2027-02-01T16:00:00+08:00")
    get_settings.cache_clear()
    yield plant
    get_settings.cache_clear()


def test_cli_pack_and_verify_pack(cli_env: Plant, tmp_path: Path) -> None:
    out = tmp_path / "cli-pack.zip"
    runner = CliRunner()
    done = runner.invoke(app, ["pack", "--site", "site", "--year", "2026", "--out", str(out)])
    assert done.exit_code == 0, done.output
    said = " ".join(done.output.split())
    assert "4 读数 readings" in said and "manifest SHA-256" in said
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        digest = hashlib.sha256(archive.read("manifest.json")).hexdigest()
    assert digest in done.output.replace("\n", "")
    assert manifest["created_at"] == "2027-02-01T08:00:00Z"
    checked = runner.invoke(app, ["verify", "--pack", str(out)])
    assert checked.exit_code == 0, checked.output
    assert "核查包完整 / pack holds" in checked.output
    tampered = tmp_path / "tampered.zip"
    _rewrite(
        out,
        tampered,
        _edit_member("readings/readings.csv", b",30.25,", b",31.25,"),
        fix_manifest=False,
    )
    failed = runner.invoke(app, ["verify", "--pack", str(tampered)])
    assert failed.exit_code == 1
    said = " ".join(failed.output.split())
    assert "readings/readings.csv" in said and "pack does not hold" in said
    again = runner.invoke(app, ["pack", "--site", "site", "--year", "2026", "--out", str(out)])
    assert again.exit_code == 2 and "exists" in " ".join(again.output.split())


def test_the_store_s_batch_rows_gives_the_same_readings(plant: Plant, tmp_path: Path) -> None:
    """The writer's direct read of the reading tables and ``store.batch_rows`` (the
    contract verify uses) give the same CSV."""
    plant.pack(tmp_path / "direct.zip")
    plant.batch_rows = batch_rows
    plant.pack(tmp_path / "contract.zip")
    with (
        zipfile.ZipFile(tmp_path / "direct.zip") as direct,
        zipfile.ZipFile(tmp_path / "contract.zip") as contract,
    ):
        assert sorted(direct.read(pack_check.READINGS_CSV).splitlines()) == sorted(
            contract.read(pack_check.READINGS_CSV).splitlines()
        )
    assert pack_check.check_pack(str(tmp_path / "contract.zip")).ok
