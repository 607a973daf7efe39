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


@pytest.fixture(params=["cython", "python"])
def hpack_impl(request):
    """Each HPACK test runs against both implementations of the codec (the Cython one imported directly:
    a missing build must fail these tests)."""
    if request.param == "cython":
        from asgicy.h2 import _hpack
        return _hpack
    from asgicy.h2 import hpack
    return hpack


@pytest.fixture(params=["cython", "python"])
def h2_impl(request):
    """Each HTTP/2 core test runs against both implementations of the connection (the Cython one imported
    directly: a missing build must fail these tests)."""
    if request.param == "cython":
        from asgicy.h2 import _core
        return _core
    from asgicy.h2 import reference
    return reference
