"""MOC services (HackSoft style `<entity>_<action>` functions), one module per resource:

- `mocs.services.mocs`: ownership lookups, create/update/delete, and the effects of any MOC change;
- `mocs.services.caps`: how many files and parts lists a MOC and a request may have;
- `mocs.services.files`: file rows and the thumbnail, delete, download, stale uploads and referenced keys;
- `mocs.services.multipart`: the multipart uploads (create with files, add files, upload a parts list);
- `mocs.services.presigned`: the presigned flow (declare, then finalize);
- `mocs.services.parts_lists`: parsing and storing parts lists, manual lists, updates, queuing a parse;
- `mocs.services.parsing`: the parse task's work and the sweeper's stuck-parse handling;
- `mocs.services.stats`: the summary and statistics routes.

Import from the module that owns a function.
"""
