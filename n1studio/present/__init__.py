"""What the window shows, without Qt: the session (the grid, its variants, answers and the
active one), the drawing data, result rows and profiles, texts, and the theme's palette.

Never imports PySide6, pyqtgraph or `n1studio.app` (an import-linter contract), so it is
tested without a display."""
