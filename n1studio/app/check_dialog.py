"""Model → Check an answer…: placeholder until the dialog lands (see the next commit)."""


def check_answer_dialog(window) -> None:
    window.statusBar().showMessage("Check an answer: not available yet", 4000)
