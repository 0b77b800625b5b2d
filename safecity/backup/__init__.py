"""Backup and restore of a whole installation: database, media, evidence and keys.

A city moves its OCC to a new server, or rebuilds one after a disk died: what it needs is the
database, the recordings, snapshots and attachments (the media folder), the evidence packages,
and the keys (the evidence keyring, and any other key in the data folder's ``keys`` folder).
Without the keys the evidence signed so far could not be checked against this installation's
key and new packages would need a new one. A backup is a folder::

    backup.json          the manifest: format, when, SafeCity's version, the schema revision,
                         the database kind, where each part came from, and every file's size
                         and SHA-256
    database/            safecity.sqlite3 (SQLite's online backup) or safecity.pgdump
                         (pg_dump's custom format)
    media/  evidence/  keys/  [evidence-key/  evidence-keyring/]
                         copies of those folders (the last two only where the settings put the
                         evidence key or keyring outside the keys folder)

The database is copied first: every recording and package it names was on disk before the
copy of the folders began, so a restore finds them (a file deleted meanwhile, say by
retention, is listed as skipped). Hidden files (work in progress: a package being written, a
key being replaced) are left out. The backup holds keys and video of people: folders 0700,
files 0600.

A restore checks every file against the manifest before it writes anything, refuses a target
that already holds data unless forced, and may go to another machine and other paths: it puts
each part where the target's settings say, brings the schema up to date and records evidence
packages relative to the new evidence folder.
"""
