"""Tests of the ``crm`` command line."""
