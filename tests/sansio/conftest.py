import pytest

from asgicy.http import reference


def _cython():
    # Imported directly (not through asgicy.http's fallback): a missing build must fail these tests.
    from asgicy.http import _parser
    return _parser


@pytest.fixture(params=["cython", "python"])
def impl(request):
    """Each core test runs against both implementations of the parser."""
    return _cython() if request.param == "cython" else reference


def _h2_implementations():
    """The HTTP/2 core's implementations: the reference, and the compiled one once it is built."""
    return ["python"]


@pytest.fixture(params=_h2_implementations())
def hpack_impl(request):
    """Each HPACK test runs against every implementation of the codec."""
    from asgicy.h2 import hpack
    return hpack


@pytest.fixture(params=_h2_implementations())
def h2_impl(request):
    """Each HTTP/2 core test runs against every implementation of the connection."""
    from asgicy.h2 import reference
    return reference
