"""``python -m skillinfer_bayes``: the ``skillinfer-bayes`` command line."""

import sys

from skillinfer_bayes.cli import main

sys.exit(main())
