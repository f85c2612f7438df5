"""The Curate menu and its docks: the N-1 sweep, the open study, datasets and evaluation,
the report."""
