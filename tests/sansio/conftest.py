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
