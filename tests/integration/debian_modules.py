# SPDX-License-Identifier: MIT
"""Makes Debian's python3-* packages importable from any Python 3 on the machine.

scripts/deps installs the test dependencies (python3-h2, python3-brotli, python3-zstandard, ...)
as Debian packages, in /usr/lib/python3/dist-packages; an interpreter CMake may find first
(pyenv's) does not search there. Importing this module appends that directory to sys.path, last,
so the interpreter's own packages still win.
"""

import os
import sys

DIST_PACKAGES = "/usr/lib/python3/dist-packages"
if os.path.isdir(DIST_PACKAGES) and DIST_PACKAGES not in sys.path:
    sys.path.append(DIST_PACKAGES)
