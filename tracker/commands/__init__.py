"""Sub-commands of ``python -m tracker``; add a module here to add a command."""

from types import ModuleType

COMMAND_MODULES: list[ModuleType] = []
