"""The main window and what belongs to it: actions and menus, preferences, the jobs it
starts, asking the model, undo, compare side by side, presentation mode, About."""
