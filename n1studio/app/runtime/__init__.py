"""Running work off the GUI thread (`Job` on a worker) and Qt's log into Python's."""
