"""What draws the grid: the interactive grid view, figures written to files, the moves
overlay and the profile plots."""
