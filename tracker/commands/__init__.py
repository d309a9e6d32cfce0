"""Sub-commands of ``python -m tracker``; add a module here to add a command."""

from types import ModuleType

from tracker.commands import analyze, db, demo, export, import_archive, photos, summary, users

COMMAND_MODULES: list[ModuleType] = [
    analyze,
    summary,
    export,
    db,
    import_archive,
    users,
    photos,
    demo,
]
