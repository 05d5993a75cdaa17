"""The attack suite runs against the same real api-server the UI tests use (``tests/ui/conftest.py``).

Its fixtures are imported, not copied: ``tests/`` is on ``sys.path`` (the root
conftest's folder), so ``ui.conftest`` is that file. When both suites run in
one session each folder gets its own server, which keeps their stores apart.
The Chromium fixture and Airflow sign-in come from the browser tests the same way.
"""

from __future__ import annotations

from ui.conftest import ServerFactory, UiServer, screenshots, ui, ui_server, ui_servers  # noqa: F401
from ui.test_ui_browser import chromium  # noqa: F401
