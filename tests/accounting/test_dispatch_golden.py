"""``tansuan calc``, ``tansuan account`` and the what-if run print what they printed before.

The reference files in ``golden/`` were written by ``golden/make_golden.py`` from the code
before the method dispatch moved into :mod:`tansuan.accounting` (amounts then went to the
methods as text and were parsed again); the outputs must stay byte for byte the same.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.accounting.golden import make_golden


@pytest.fixture(scope="module")
def produced(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return make_golden.outputs(tmp_path_factory.mktemp("golden"))


@pytest.mark.parametrize("name", make_golden.FILES)
def test_output_is_byte_identical_to_the_reference(produced: dict[str, str], name: str) -> None:
    reference = (make_golden.HERE / name).read_bytes()
    assert produced[name].encode("utf-8") == reference, f"{name} differs from the reference"


def test_every_reference_file_is_checked() -> None:
    written = {p.name for p in Path(make_golden.HERE).iterdir() if p.suffix in (".json", ".txt")}
    assert written == set(make_golden.FILES)
