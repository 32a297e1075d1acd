"""Tools for host test suites: hypothesis strategies for every domain type.

This package imports hypothesis; the rest of cxrecovery never does. Install it with the
``tests`` extra (``pip install 'cxrecovery[tests]'``).
"""
