import logging

import pytest

from asgicy.testing import serving


def _serve(app, **options):
    # Most test apps answer http only; the lifespan tests ask for lifespan explicitly.
    options.setdefault("lifespan", "off")
    return serving(app, **options)


@pytest.fixture
def serve():
    """``async with serve(app, **options) as running`` starts a real server on 127.0.0.1, port 0."""
    return _serve


@pytest.fixture
def error_log(caplog):
    caplog.set_level(logging.INFO, logger="asgicy.error")
    return caplog
