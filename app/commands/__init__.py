"""The ``runwatch`` sub-commands. :mod:`app.cli` parses; these modules do the work.

Each module is imported only when its command runs, so ``runwatch --help`` never pays for rich,
NumPy or SQLAlchemy.
"""
