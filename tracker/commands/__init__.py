"""Sub-commands of ``python -m tracker``; add a module here to add a command.

:data:`COMMAND_MODULES` names each command's module rather than importing it: most commands
need the records layer (SQLAlchemy, the services, the PDF reports), which costs a CPU second
to import, more than ``analyze`` needs to start measuring a photo. :mod:`tracker.cli`
imports only the module of the command being run.
"""

COMMAND_MODULES: dict[str, str] = {
    "analyze": "tracker.commands.analyze",
    "summary": "tracker.commands.summary",
    "export": "tracker.commands.export",
    "db": "tracker.commands.db",
    "import": "tracker.commands.import_archive",
    "users": "tracker.commands.users",
    "photos": "tracker.commands.photos",
    "demo": "tracker.commands.demo",
}
