"""``python -m tracker``'s registry of commands, whose modules are imported on demand."""

from __future__ import annotations

import re

import pytest

from tracker.cli import build_parser, main
from tracker.commands import COMMAND_MODULES


def _help(argv: list[str], capsys: pytest.CaptureFixture[str], *, alone: bool) -> str:
    with pytest.raises(SystemExit) as exit_info:
        if alone:
            main(argv)
        else:
            build_parser().parse_args(argv)
    assert exit_info.value.code == 0
    return capsys.readouterr().out


def test_the_help_lists_every_command_in_the_registry_with_its_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    listing = _help(["--help"], capsys, alone=True)
    described = re.findall(r"^    (\S+) +\S", listing, flags=re.MULTILINE)
    assert described == list(COMMAND_MODULES)


@pytest.mark.parametrize("command", list(COMMAND_MODULES))
def test_a_command_parsed_alone_is_the_command_parsed_among_all(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    alone = _help([command, "--help"], capsys, alone=True)
    assert alone == _help([command, "--help"], capsys, alone=False)
    assert alone.startswith(f"usage: python -m tracker {command} ")
