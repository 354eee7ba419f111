// Nothing to import: this module only defines the per-target entry points in FuzzEntry.c.
