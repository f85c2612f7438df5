"""Modal dialogs: check a pasted answer, export a figure, perturb the active variant."""
