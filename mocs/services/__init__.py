"""MOC services (HackSoft style `<entity>_<action>` functions), one module per resource:

- `mocs.services.mocs`: ownership lookups, create/update/delete, and the effects of any MOC change;
- `mocs.services.files`: uploads (multipart and presigned), finalize, delete, download, stale uploads;
- `mocs.services.parts_lists`: parsing and storing parts lists, manual lists, updates, the parse task's work;
- `mocs.services.stats`: the summary and statistics routes.

Import from the module that owns a function.
"""
