"""Crime records: imported from the police register's statistics files, and counted from
incidents closed in the OCC."""
