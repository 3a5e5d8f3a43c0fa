"""``tansuan hj212 decode`` on random and mutated bytes: never a traceback (issue 17).

A shell passes a command-line argument as bytes; Python keeps bytes that are not UTF-8 as
lone surrogates (``os.fsdecode``), which is what made ``decode`` crash with
``UnicodeEncodeError: surrogates not allowed``. Exit codes: 0 decoded, 1 not a valid
packet (reason printed), 2 not UTF-8 text.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys

import typer
from click.testing import CliRunner

from tansuan.cli import app
from tansuan.gateways.hj212 import codec

from .test_hj212_codec import APPENDIX_A

#: Inputs run in-process (the same ``app`` the entry point runs) and through a real process.
IN_PROCESS, SUBPROCESS = 3000, 6
SEED = 20261205


def _inputs(count: int, rng: random.Random) -> list[bytes]:
    """Random bytes, and valid packets with random bytes written over them (no NUL: argv
    cannot carry one)."""
    valid = [
        APPENDIX_A.encode(),
        codec.build(
            cn="2051",
            qn="20240101100130001",
            pw="123456",
            mn="88888880000001",
            cp="DataTime=20240101100100;a05001-Avg=2.5,a05001-Flag=N",
        ).rstrip(),
    ]
    out = []
    for n in range(count):
        if n % 2:
            data = bytearray(rng.choice(valid))
            for _ in range(rng.randint(1, 4)):
                data[rng.randrange(len(data))] = rng.randint(1, 255)
        else:
            data = bytearray(rng.randint(1, 255) for _ in range(rng.randint(1, 80)))
            if rng.random() < 0.5:
                data[:0] = b"##0101"
        out.append(bytes(data).replace(b"\x00", b"0"))
    return out


def _non_utf8(data: bytes) -> bool:
    try:
        data.strip().decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_decode_of_random_bytes_never_prints_a_traceback() -> None:
    runner = CliRunner()
    command = typer.main.get_command(app)  # built once: typer's runner rebuilds it per call
    rng = random.Random(SEED)
    codes: dict[int, int] = {}
    for data in _inputs(IN_PROCESS, rng):
        result = runner.invoke(command, ["hj212", "decode", "--", os.fsdecode(data)])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            data,
            result.exception,
        )
        assert result.exit_code in (0, 1, 2), (data, result.output)
        assert "Traceback" not in result.stderr
        if result.exit_code:
            assert "错误 / error" in result.stderr, (data, result.stderr)
        if _non_utf8(data):
            assert result.exit_code == 2 and "not UTF-8 text" in result.stderr, data
        codes[result.exit_code] = codes.get(result.exit_code, 0) + 1
    assert codes.get(2, 0) > IN_PROCESS // 10  # the non-UTF-8 case is really exercised


def test_decode_through_the_real_entry_point() -> None:
    rng = random.Random(SEED + 1)
    inputs = [b"##0101QN=\xff\xfe;ST=32", *_inputs(SUBPROCESS, rng)]
    for data in inputs:
        done = subprocess.run(
            [sys.executable, "-m", "tansuan.cli", "hj212", "decode", "--", data],
            capture_output=True,
            timeout=60,
            check=False,
        )
        stderr = done.stderr.decode("utf-8", "replace")
        assert done.returncode in (0, 1, 2), (data, stderr)
        assert "Traceback" not in stderr, (data, stderr)
        if _non_utf8(data):
            assert done.returncode == 2 and "不是 UTF-8 文本" in stderr, (data, stderr)
