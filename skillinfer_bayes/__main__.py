"""``python -m skillinfer_bayes``: the ``skillinfer-bayes`` command line."""

from skillinfer_bayes.cli import run

run()
